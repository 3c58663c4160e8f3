import { defineConfig } from 'vitest/config';

// Tests over the external sample corpus (../shared/samples/real); no services.
export default defineConfig({
  test: {
    name: 'samples',
    include: ['test/samples/**/*.test.ts'],
    testTimeout: 60_000,
  },
});

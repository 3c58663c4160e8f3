import { describe, expect, it } from 'vitest';
import { resolveEnginePaths } from '../../../src/engine/paths.ts';

describe('engine/paths', () => {
  it.each([
    ['root uses /var/cache', { uid: 0, home: '/root' }, '/var/cache/lora-catalog'],
    ['a user uses ~/.cache', { uid: 1000, home: '/home/ann' }, '/home/ann/.cache/lora-catalog'],
    ['a user honours XDG_CACHE_HOME', { uid: 1000, home: '/home/ann', xdgCacheHome: '/x' }, '/x/lora-catalog'],
    ['the env override wins', { uid: 0, envCacheDir: '/env' }, '/env'],
    ['the option wins over env', { uid: 0, envCacheDir: '/env', cacheDir: '/opt' }, '/opt'],
  ])('%s', (_case, opts, cacheDir) => {
    const paths = resolveEnginePaths(opts);

    expect(paths).toEqual({ cacheDir, engineDir: `${cacheDir}/engine`, stateDir: `${cacheDir}/state` });
  });
});

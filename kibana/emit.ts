import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderBundle } from './bundle.ts';

/** The committed import file; a unit test fails when it differs from a fresh render. */
export const GENERATED_FILE = fileURLToPath(new URL('./generated/lora-catalog.ndjson', import.meta.url));

/** Writes the bundle with the default index names; returns the path. */
export async function emitDashboards(file: string = GENERATED_FILE): Promise<string> {
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, renderBundle());
  return file;
}

if (import.meta.main) {
  const file = await emitDashboards();
  process.stdout.write(`wrote ${path.relative(process.cwd(), file)}\n`);
}

import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

/** Writes `files` (paths relative to the tree) into a new temp directory and returns it. */
export async function writeTree(files: Record<string, string | Uint8Array>, prefix = 'lora-catalog-'): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), prefix));
  for (const [name, content] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(dir, name)), { recursive: true });
    await writeFile(path.join(dir, name), content);
  }
  return dir;
}

/** Temp trees for one test file: `tree()` makes one, `cleanup()` (in afterEach) removes them all. */
export function tempTrees(prefix: string): { tree(files: Record<string, string | Uint8Array>): Promise<string>; cleanup(): Promise<void> } {
  const dirs: string[] = [];
  return {
    async tree(files) {
      const dir = await writeTree(files, prefix);
      dirs.push(dir);
      return dir;
    },
    async cleanup() {
      await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
    },
  };
}

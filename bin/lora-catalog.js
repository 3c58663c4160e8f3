#!/usr/bin/env node
// The `lora-catalog` binary of the npm package (and of `npm link` / `npx` in a clone). A clone has the
// TypeScript sources, which Node >= 22.18 runs directly; an installed package has only the built
// JavaScript in dist/ (Node does not strip types under node_modules).
import { existsSync } from 'node:fs';

const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 22 || (major === 22 && minor < 18)) {
  process.stderr.write(`lora-catalog needs Node.js >= 22.18 (this is ${process.version}); ./quickstart.sh caches one, bin/lora-catalog finds it\n`);
  process.exit(2);
}
const fromSource = existsSync(new URL('../src/cli/main.ts', import.meta.url));
const base = fromSource ? '../src/cli/' : '../dist/src/cli/';
const ext = fromSource ? '.ts' : '.js';
const { main } = await import(new URL(`${base}app${ext}`, import.meta.url).href);
const { exitProcess } = await import(new URL(`${base}signals${ext}`, import.meta.url).href);
// exitProcess, not process.exit: a read stuck in the kernel would make process.exit wait forever.
exitProcess(await main(process.argv.slice(2)));

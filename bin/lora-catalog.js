#!/usr/bin/env node
// Thin launcher so `npm link` / `npx lora-catalog` work: Node >= 22.18 runs the TypeScript sources directly.
import { main } from '../src/cli/main.ts';

process.exit(await main(process.argv.slice(2)));

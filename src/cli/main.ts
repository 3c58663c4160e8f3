#!/usr/bin/env node
// The command's entry point. V8's on-disk compile cache is turned on before the CLI's modules load, so a
// process (and each parse worker it starts) compiles them once per Node version instead of on every start.
import module from 'node:module';
import { shareCompileCache } from '../config/env.ts';
import { MODULE_EXT } from '../module-ext.ts';
import type * as App from './app.ts';

module.enableCompileCache?.();
shareCompileCache(module.getCompileCacheDir?.());
const { runCli } = (await import(`./app${MODULE_EXT}`)) as typeof App;
runCli(process.argv.slice(2));

import { idleForMs, readEsState, stopDetachedElasticsearch } from './es-daemon.ts';
import { groupAlive } from './process.ts';

/**
 * The local engine's idle watcher, a detached process started with it: `node idle-watcher.ts
 * <stateDir> <pid>`. Stops the engine once no command has used it for its `idleTimeoutMs`, and exits
 * when the engine it watches is gone or was replaced (another start, `es stop`).
 */
const CHECK_EVERY_MS = 15_000;

const [stateDir, pidText] = process.argv.slice(2);
const pid = Number(pidText);
if (stateDir === undefined || !Number.isInteger(pid)) {
  process.stderr.write('usage: idle-watcher <stateDir> <pid>\n');
  process.exit(2);
}
for (;;) {
  const state = await readEsState(stateDir);
  if (state === null || state.pid !== pid || state.idleTimeoutMs === null || !groupAlive(pid)) {
    process.exit(0);
  }
  const idle = await idleForMs(stateDir);
  if (idle !== null && idle >= state.idleTimeoutMs) {
    await stopDetachedElasticsearch(stateDir);
    process.exit(0);
  }
  const next = idle === null ? CHECK_EVERY_MS : Math.min(CHECK_EVERY_MS, Math.max(1000, state.idleTimeoutMs - idle));
  await new Promise((resolve) => setTimeout(resolve, next));
}

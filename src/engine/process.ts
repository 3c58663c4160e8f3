import { execFile, spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { lchown, readFile, readdir } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { EngineError, errorMessage } from '../errors.ts';

/** A service process started by the engine. */
export interface RunningService {
  /** Base URL on loopback, e.g. `http://127.0.0.1:9200`. */
  url: string;
  pid: number;
  /** File holding the process' stdout and stderr. */
  logFile: string;
  /** Sends SIGTERM to the process group and waits for it to exit (SIGKILL after a grace period). */
  stop(): Promise<void>;
}

export interface SpawnServiceOptions {
  /** Short name used in messages: `elasticsearch`, `s3mock`. */
  name: string;
  command: string;
  args: string[];
  env: Record<string, string | undefined>;
  cwd: string;
  /** stdout and stderr are appended here. */
  logFile: string;
  /** Run as this uid/gid (used to run Elasticsearch as `nobody` when we are root). */
  runAs?: UnixUser;
  /**
   * Leave the service running when this process exits (for `es start`). Otherwise the process group
   * is killed when this process exits, so a crashed test run leaves no JVM behind.
   */
  detached?: boolean;
}

export interface SpawnedService {
  pid: number;
  /** Resolves with the exit code (or signal name) once the process exits. */
  exited: Promise<string>;
}

export interface UnixUser {
  uid: number;
  gid: number;
}

/** Lines of a service log quoted in a start failure. */
export const LOG_TAIL_LINES = 40;

/** How long a stopping service may take before its process group gets SIGKILL, in ms. */
export const STOP_GRACE_MS = 20_000;

export function spawnService(opts: SpawnServiceOptions): SpawnedService {
  const [command, args] =
    opts.runAs === undefined
      ? [opts.command, opts.args]
      : ['setpriv', [`--reuid=${opts.runAs.uid}`, `--regid=${opts.runAs.gid}`, '--clear-groups', '--', opts.command, ...opts.args]];
  const fd = openSync(opts.logFile, 'a');
  const child = spawn(command, args, { cwd: opts.cwd, env: opts.env, detached: true, stdio: ['ignore', fd, fd] });
  closeSync(fd);
  const pid = child.pid;
  if (pid === undefined) {
    throw new EngineError('engine-start-failed', `[${opts.name}] could not spawn ${command}`);
  }
  const exited = new Promise<string>((resolve) => {
    child.once('exit', (code, signal) => resolve(signal ?? String(code)));
    child.once('error', (err) => resolve(errorMessage(err)));
  });
  if (opts.detached === true) {
    child.unref();
  } else {
    const killOnExit = (): void => killGroup(pid, 'SIGKILL');
    process.once('exit', killOnExit);
    void exited.then(() => process.off('exit', killOnExit));
  }
  return { pid, exited };
}

export interface WaitReadyOptions {
  name: string;
  spawned: SpawnedService;
  logFile: string;
  /** Resolves true once the service answers. Errors count as "not yet". */
  check: () => Promise<boolean>;
  timeoutMs: number;
}

/** Polls `check` until it is true; throws `engine-start-failed` with the log tail on exit or timeout. */
export async function waitReady(opts: WaitReadyOptions): Promise<void> {
  const deadline = Date.now() + opts.timeoutMs;
  let exitedWith: string | null = null;
  void opts.spawned.exited.then((how) => {
    exitedWith = how;
  });
  while (Date.now() < deadline) {
    if (exitedWith !== null) {
      throw await startFailure(opts, `exited (${exitedWith}) before it was ready`);
    }
    if (await opts.check().catch(() => false)) {
      return;
    }
    await sleep(500);
  }
  await stopProcessGroup(opts.spawned.pid);
  throw await startFailure(opts, `was not ready after ${Math.round(opts.timeoutMs / 1000)} s`);
}

/** SIGTERM to the whole process group (the launcher and its JVM), then wait; SIGKILL after the grace. */
export async function stopProcessGroup(pid: number, graceMs: number = STOP_GRACE_MS): Promise<void> {
  killGroup(pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (groupAlive(pid)) {
    if (Date.now() > deadline) {
      killGroup(pid, 'SIGKILL');
      await sleep(200);
      return;
    }
    await sleep(200);
  }
}

export function groupAlive(pid: number): boolean {
  try {
    process.kill(-pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** A TCP port on 127.0.0.1 that was free a moment ago. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export async function tailFile(file: string, lines: number = LOG_TAIL_LINES): Promise<string> {
  try {
    const text = await readFile(file, 'utf8');
    return text
      .split('\n')
      .slice(-lines - 1)
      .join('\n');
  } catch (err) {
    return `(no log: ${errorMessage(err)})`;
  }
}

/** uid/gid of `nobody` from /etc/passwd (its primary group is `nogroup` on Debian, `nobody` elsewhere). */
export async function nobodyUser(): Promise<UnixUser> {
  const passwd = await readFile('/etc/passwd', 'utf8');
  for (const line of passwd.split('\n')) {
    const [name, , uid, gid] = line.split(':');
    if (name === 'nobody' && uid !== undefined && gid !== undefined) {
      return { uid: Number(uid), gid: Number(gid) };
    }
  }
  throw new EngineError('engine-start-failed', 'running as root needs a "nobody" user in /etc/passwd');
}

export async function chownRecursive(dir: string, user: UnixUser): Promise<void> {
  await lchown(dir, user.uid, user.gid);
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const child = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      await chownRecursive(child, user);
    } else {
      await lchown(child, user.uid, user.gid);
    }
  }
}

export async function runCapture(command: string, args: string[]): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    execFile(command, args, { timeout: 30_000 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : 127;
      resolve({ code, output: `${stdout}${stderr}` });
    });
  });
}

// --- internal ---

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // already gone
  }
}

async function startFailure(opts: WaitReadyOptions, what: string): Promise<EngineError> {
  const tail = await tailFile(opts.logFile);
  return new EngineError('engine-start-failed', `[${opts.name}] ${what}; last ${LOG_TAIL_LINES} lines of ${opts.logFile}:\n${tail}`);
}

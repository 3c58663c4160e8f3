import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, inject, it } from 'vitest';
import { parseConfig } from '../../src/config/load.ts';
import type { AppContext } from '../../src/context.ts';
import { acquireLease, ensureLeaseIndex, releaseLease, renewLease, withLease, type Lease } from '../../src/lease/lease.ts';
import { silentLogger } from '../../src/log.ts';
import { deleteIndexQuietly, esClient, uniqueName } from './helpers.ts';

const client = esClient();
const CHILD = path.resolve(import.meta.dirname, '../fixtures/jobs/lease-child.ts');
let index: string;

beforeEach(() => {
  index = uniqueName('it-leases');
});

afterEach(async () => {
  await deleteIndexQuietly(client, index);
});

describe('src/lease/lease', () => {
  it('lets exactly one of many concurrent acquirers win (same process)', async () => {
    const now = new Date();
    await ensureLeaseIndex(client, index);

    const results = await Promise.all(
      Array.from({ length: 8 }, async (_, i) => acquireLease(client, index, { job: 'full', owner: `owner-${i}`, ttlMs: 60_000, now })),
    );

    expect(results.filter((r) => r.ok)).toHaveLength(1);
  });

  it('lets exactly one of two child processes win', async () => {
    await ensureLeaseIndex(client, index);
    const dir = await mkdtemp(path.join(os.tmpdir(), 'lease-it-'));
    const goFile = path.join(dir, 'go');
    const children = [0, 1].map(() => runChild([inject('esUrl'), index, 'full', goFile]));
    await Promise.all(children.map(async (c) => c.ready));

    await writeFile(goFile, '');
    const outputs = await Promise.all(children.map(async (c) => c.result));
    await rm(dir, { recursive: true, force: true });

    expect(outputs.map((o) => o.ok).sort()).toEqual([false, true]);
  });

  it('takes over an expired lease, and only one of two takers wins', async () => {
    const t0 = new Date('2025-01-01T00:00:00Z');
    const first = await acquireLease(client, index, { job: 'full', owner: 'a', ttlMs: 1000, now: t0 });
    const later = new Date(t0.getTime() + 5000);

    const takers = await Promise.all(['b', 'c'].map(async (owner) => acquireLease(client, index, { job: 'full', owner, ttlMs: 1000, now: later })));
    const stillHeld = await acquireLease(client, index, { job: 'full', owner: 'd', ttlMs: 1000, now: new Date(t0.getTime() + 500) });

    expect(first.ok).toBe(true);
    expect(takers.filter((r) => r.ok && r.takeover)).toHaveLength(1);
    expect(stillHeld.ok).toBe(false);
  });

  it('renews its own lease but fails to renew or release after a takeover', async () => {
    const t0 = new Date('2025-01-01T00:00:00Z');
    const a = await acquireLease(client, index, { job: 'inc', owner: 'a', ttlMs: 1000, now: t0 });
    const aLease = okLease(a);
    const renewed = await renewLease(client, aLease, { ttlMs: 1000, now: new Date(t0.getTime() + 500) });
    const b = await acquireLease(client, index, { job: 'inc', owner: 'b', ttlMs: 1000, now: new Date(t0.getTime() + 5000) });

    const renewAfter = await renewLease(client, renewed as Lease, { ttlMs: 1000, now: new Date(t0.getTime() + 5100) });
    const releaseByA = await releaseLease(client, renewed as Lease);
    const doc = await client.get<{ owner: string }>({ index, id: 'inc' });

    expect(renewed?.expiresAt).toEqual(new Date(t0.getTime() + 1500));
    expect(b.ok).toBe(true);
    expect(renewAfter).toBeNull();
    expect(releaseByA).toBe(false);
    expect(doc._source?.owner).toBe('b');
  });

  it('releases only for the owner, after which the job is free again', async () => {
    const now = new Date();
    const a = okLease(await acquireLease(client, index, { job: 'ret', owner: 'a', ttlMs: 60_000, now }));

    const released = await releaseLease(client, a);
    const again = await releaseLease(client, a);
    const next = await acquireLease(client, index, { job: 'ret', owner: 'b', ttlMs: 60_000, now });

    expect(released).toBe(true);
    expect(again).toBe(false);
    expect(next.ok && !next.takeover).toBe(true);
  });

  it('creates the leases index with the strict lease mapping', async () => {
    await acquireLease(client, index, { job: 'x', owner: 'a', ttlMs: 1000, now: new Date() });

    const mapping = await client.indices.getMapping({ index });

    expect(Object.values(mapping)[0]?.mappings.dynamic).toBe('strict');
  });
});

describe('src/lease/lease withLease', () => {
  it('renews while fn runs past the ttl, then releases', async () => {
    const ctx = ctxFor();
    const seen: string[] = [];

    await withLease(
      ctx,
      'long',
      async () => {
        await sleep(1200);
        const doc = await client.get<{ acquired_at: string; renewed_at: string; expires_at: string }>({ index, id: 'long' });
        seen.push(doc._source?.renewed_at !== doc._source?.acquired_at ? 'renewed' : 'not-renewed');
        seen.push(Date.parse(doc._source?.expires_at ?? '') > Date.now() ? 'valid' : 'expired');
      },
      { ttlMs: 300 },
    );
    const after = await client.get({ index, id: 'long' }, { ignore: [404] });

    expect(seen).toEqual(['renewed', 'valid']);
    expect(after.found).toBe(false);
  });

  it('throws lease-held when another owner holds the job, and releases after fn throws', async () => {
    const ctx = ctxFor();
    let inner: unknown;

    const outer = await withLease(ctx, 'job', async () => {
      inner = await withLease(ctx, 'job', async () => 'ran').catch((err: unknown) => err);
      throw new Error('fn failed');
    }).catch((err: unknown) => err);
    const after = await client.get({ index, id: 'job' }, { ignore: [404] });

    expect(inner).toMatchObject({ code: 'lease-held' });
    expect(outer).toMatchObject({ message: 'fn failed' });
    expect(after.found).toBe(false);
  });

  it('aborts fn when the lease is taken over', async () => {
    const ctx = ctxFor();

    const aborted = await withLease(
      ctx,
      'stolen',
      async (signal, lease) => {
        await client.index({
          index,
          id: 'stolen',
          document: {
            job: 'stolen',
            owner: 'thief',
            acquired_at: lease.acquiredAt.toISOString(),
            renewed_at: new Date().toISOString(),
            expires_at: new Date(Date.now() + 60_000).toISOString(),
          },
        });
        await new Promise<void>((resolve) => {
          signal.addEventListener('abort', () => resolve(), { once: true });
          setTimeout(resolve, 3000);
        });
        return signal.aborted;
      },
      { ttlMs: 300 },
    );
    const doc = await client.get<{ owner: string }>({ index, id: 'stolen' });

    expect(aborted).toBe(true);
    expect(doc._source?.owner).toBe('thief');
  });
});

// --- internal ---

function ctxFor(): AppContext {
  return { config: parseConfig({ indices: { leases: index } }), client, log: silentLogger, now: () => new Date(), signal: new AbortController().signal };
}

async function sleep(ms: number): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, ms));
}

function okLease(result: Awaited<ReturnType<typeof acquireLease>>): Lease {
  if (!result.ok) {
    throw new Error(`expected to acquire, held by ${result.holder}`);
  }
  return result.lease;
}

function runChild(args: string[]): { ready: Promise<void>; result: Promise<{ ok: boolean }> } {
  const child = spawn(process.execPath, [CHILD, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  let markReady: () => void = () => {};
  const ready = new Promise<void>((resolve) => {
    markReady = resolve;
  });
  child.stdout.on('data', (chunk: Buffer) => {
    out += chunk.toString();
    if (out.includes('ready\n')) {
      markReady();
    }
  });
  const result = new Promise<{ ok: boolean }>((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code) => {
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (code !== 0 || !line) {
        reject(new Error(`lease child exited ${code}: ${out}`));
        return;
      }
      resolve(JSON.parse(line) as { ok: boolean });
    });
  });
  return { ready, result };
}

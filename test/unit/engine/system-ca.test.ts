import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const MODULE = path.resolve(import.meta.dirname, '../../../src/engine/system-ca.ts');

/**
 * Runs in a fresh Node without NODE_EXTRA_CA_CERTS or --use-system-ca (a shell may set them): what the default
 * store lacks of the system one before the call, what it still lacks after, and what the calls report. Certificates
 * are compared by fingerprint: the default store gives back re-encoded PEM text.
 */
const PROBE = `
import { X509Certificate } from 'node:crypto';
import tls from 'node:tls';
import { trustSystemCertificates } from ${JSON.stringify(MODULE)};
const ids = (type) => new Set(tls.getCACertificates(type).map((pem) => new X509Certificate(pem).fingerprint256));
const missing = (want, have) => [...want].filter((f) => !have.has(f)).length;
const system = ids('system'), bundled = ids('bundled'), before = ids('default');
const added = trustSystemCertificates();
const after = ids('default');
console.log(JSON.stringify({ api: true, systemMissingBefore: missing(system, before), added, again: trustSystemCertificates(),
  systemMissingAfter: missing(system, after), bundledMissingAfter: missing(bundled, after) }));
`;

describe('engine/system-ca', () => {
  // The suite runs on Node 24 (scripts/bootstrap.sh), which has the API; on an older Node the function does nothing.
  it("makes every certificate of the system store trusted by default, next to Node's own, once", () => {
    const { NODE_EXTRA_CA_CERTS: _extra, NODE_OPTIONS: _options, NODE_USE_SYSTEM_CA: _system, ...env } = process.env;
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', PROBE], { env, encoding: 'utf8' });
    const probe = JSON.parse(out) as Record<string, number | boolean>;

    expect(probe).toEqual({
      api: true,
      systemMissingBefore: probe.added,
      added: probe.systemMissingBefore,
      again: 0,
      systemMissingAfter: 0,
      bundledMissingAfter: 0,
    });
  });
});

import tls from 'node:tls';
import { describe, expect, it } from 'vitest';
import { trustSystemCertificates } from '../../../src/engine/system-ca.ts';

const api = tls as typeof tls & { getCACertificates?: (type: 'default' | 'system' | 'bundled') => string[] };

describe('engine/system-ca', () => {
  // The suite runs on Node 24 (scripts/bootstrap.sh), which has the API; on an older Node the function does nothing.
  it("makes every certificate of the system store trusted by default, next to Node's own, once", () => {
    expect(typeof api.getCACertificates).toBe('function');
    const system = api.getCACertificates?.('system') ?? [];
    const bundled = api.getCACertificates?.('bundled') ?? [];
    const missingBefore = system.filter((cert) => !(api.getCACertificates?.('default') ?? []).includes(cert)).length;

    const added = trustSystemCertificates();
    const trusted = new Set(api.getCACertificates?.('default'));

    expect(added).toBe(missingBefore);
    expect(system.every((cert) => trusted.has(cert))).toBe(true);
    expect(bundled.every((cert) => trusted.has(cert))).toBe(true);
    expect(trustSystemCertificates()).toBe(0);
  });
});

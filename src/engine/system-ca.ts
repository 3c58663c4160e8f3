import tls from 'node:tls';

let done = false;

/**
 * Lets this process trust the certificate authorities of the operating system's store as well as Node's bundled
 * ones (what `--use-system-ca` does), for the downloads from Maven Central. Where egress goes through a TLS proxy,
 * its CA is installed in the system store: curl and Java trust it, Node's bundled store does not
 * (`SELF_SIGNED_CERT_IN_CHAIN`). Without the APIs (Node < 22.19 / 24.5) nothing changes. Returns how many
 * certificates the default store gained.
 */
export function trustSystemCertificates(): number {
  if (done) {
    return 0;
  }
  done = true;
  const api = tls as typeof tls & {
    getCACertificates?: (type: 'default' | 'system') => string[];
    setDefaultCACertificates?: (certs: string[]) => void;
  };
  if (typeof api.getCACertificates !== 'function' || typeof api.setDefaultCACertificates !== 'function') {
    return 0;
  }
  const before = api.getCACertificates('default');
  // The store keeps each certificate once (the system store repeats Node's, in other PEM text).
  api.setDefaultCACertificates([...before, ...api.getCACertificates('system')]);
  return api.getCACertificates('default').length - before.length;
}

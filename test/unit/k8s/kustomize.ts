import { execFileSync } from 'node:child_process';
import { parseAllDocuments } from 'yaml';

/** A rendered Kubernetes object. */
export interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  [key: string]: unknown;
}

/**
 * Renders a kustomization with the real `kubectl kustomize` (what `kubectl apply -k` applies). A
 * missing kubectl fails the test: the manifests are code and are checked as Kubernetes renders them.
 */
export function renderKustomization(dir: string): Manifest[] {
  const out = execFileSync('kubectl', ['kustomize', dir], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  return parseAllDocuments(out).map((doc) => doc.toJS() as Manifest);
}

/** The containers of a CronJob's or a Job's pod template (none for other kinds). */
export function containersOf(doc: Manifest): { name: string; image: string; [key: string]: unknown }[] {
  const spec = doc.spec as
    { template?: { spec?: { containers?: never[] } }; jobTemplate?: { spec?: { template?: { spec?: { containers?: never[] } } } } } | undefined;
  return spec?.jobTemplate?.spec?.template?.spec?.containers ?? spec?.template?.spec?.containers ?? [];
}

import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { PersistentVolume } from 'kubernetes-models/v1/PersistentVolume';
import { PersistentVolumeClaim } from 'kubernetes-models/v1/PersistentVolumeClaim';
import { CronJob } from 'kubernetes-models/batch/v1/CronJob';
import { Job } from 'kubernetes-models/batch/v1/Job';
import { describe, expect, it } from 'vitest';
import { parseSyncArgs } from '../../../src/cli/sync.ts';
import { parseConfig } from '../../../src/config/load.ts';
import { parse as parseYaml } from 'yaml';
import { containersOf, renderKustomization, type Manifest } from './kustomize.ts';

const REPO = path.resolve(import.meta.dirname, '../../..');
/** The recurring manifests (applied on every change) and, apart, the one-off backfill, each with its example overlay. */
const RECURRING = { base: path.join(REPO, 'k8s/base'), example: path.join(REPO, 'k8s/overlays/example') };
const BACKFILL = { base: path.join(REPO, 'k8s/backfill'), example: path.join(REPO, 'k8s/overlays/example-backfill') };
const BUILDS = {
  base: [RECURRING.base, BACKFILL.base],
  example: [RECURRING.example, BACKFILL.example],
} as const;

/** Volume types the Restricted pod security level allows (inline nfs/hostPath are refused). */
const RESTRICTED_VOLUME_TYPES = new Set(['configMap', 'csi', 'downwardAPI', 'emptyDir', 'ephemeral', 'persistentVolumeClaim', 'projected', 'secret']);

/** kubernetes-models validates each kind against the Kubernetes OpenAPI schema (types, enums, required fields). */
const MODELS: Record<string, new (data: never) => { validate(): void }> = {
  'v1/ConfigMap': ConfigMap,
  'v1/PersistentVolume': PersistentVolume,
  'v1/PersistentVolumeClaim': PersistentVolumeClaim,
  'batch/v1/CronJob': CronJob,
  'batch/v1/Job': Job,
};

const SECRET_ENV = ['LORA_CATALOG_ES_API_KEY', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY'];
/** Only S3 sources need these; a cluster without S3 sources has no such secret, and the pods must start. */
const OPTIONAL_SECRET_ENV = new Set(['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY']);

interface PodSpec {
  securityContext?: { runAsNonRoot?: boolean; seccompProfile?: { type?: string } };
  restartPolicy?: string;
  volumes?: ({ name: string; persistentVolumeClaim?: { claimName: string; readOnly?: boolean }; emptyDir?: object } & Record<string, unknown>)[];
  containers: Container[];
}

interface Container {
  name: string;
  image: string;
  args?: string[];
  env?: { name: string; value?: string; valueFrom?: { secretKeyRef?: { optional?: boolean }; fieldRef?: { fieldPath: string } } }[];
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  securityContext?: { runAsNonRoot?: boolean; readOnlyRootFilesystem?: boolean; allowPrivilegeEscalation?: boolean; capabilities?: { drop?: string[] } };
  volumeMounts?: { name: string; mountPath: string; readOnly?: boolean }[];
}

describe.each(Object.entries(BUILDS))('k8s/%s', (_name, [recurringDir, backfillDir]) => {
  const recurring = renderKustomization(recurringDir);
  const backfill = renderKustomization(backfillDir);
  const docs = [...recurring, ...backfill];
  const workloads = docs.filter((d) => d.kind === 'CronJob' || d.kind === 'Job');

  it('renders the CronJobs, the runs volume and the config map, and no Secret values; the backfill Job apart', () => {
    expect(recurring.map((d) => `${d.kind}/${d.metadata.name}`).sort()).toEqual([
      'ConfigMap/lora-catalog-config',
      'CronJob/lora-catalog-full-sync',
      'CronJob/lora-catalog-incremental-sync',
      'CronJob/lora-catalog-retention',
      'PersistentVolume/lora-catalog-runs',
      'PersistentVolumeClaim/lora-catalog-runs',
    ]);
    expect(backfill.map((d) => `${d.kind}/${d.metadata.name}`)).toEqual(['Job/lora-catalog-backfill']);
  });

  it('gives the backfill Job the config map and the claim the recurring manifests create', () => {
    const pod = podSpecOf(backfill[0] as Manifest);
    const names = new Set(recurring.map((d) => `${d.kind}/${d.metadata.name}/${d.metadata.namespace ?? ''}`));
    const namespace = backfill[0]?.metadata.namespace ?? '';

    for (const volume of pod.volumes ?? []) {
      const configMap = (volume.configMap as { name?: string } | undefined)?.name;
      if (configMap !== undefined) {
        expect(names).toContain(`ConfigMap/${configMap}/${namespace}`);
      }
      if (volume.persistentVolumeClaim) {
        expect(names).toContain(`PersistentVolumeClaim/${volume.persistentVolumeClaim.claimName}/${namespace}`);
      }
    }
  });

  it('binds the claim read-only to the NFS PersistentVolume (pods never mount nfs inline)', () => {
    const pv = recurring.find((d) => d.kind === 'PersistentVolume') as Manifest & {
      spec: { nfs?: { readOnly?: boolean }; accessModes: string[]; storageClassName: string };
    };
    const pvc = recurring.find((d) => d.kind === 'PersistentVolumeClaim') as Manifest & {
      spec: { volumeName: string; accessModes: string[]; storageClassName: string };
    };

    expect(pv.spec.nfs?.readOnly).toBe(true);
    expect(pv.spec.accessModes).toEqual(['ReadOnlyMany']);
    expect(pvc.spec).toMatchObject({ volumeName: pv.metadata.name, accessModes: ['ReadOnlyMany'], storageClassName: pv.spec.storageClassName });
  });

  it.each(docs.map((d) => [`${d.kind}/${d.metadata.name}`, d] as const))('%s is valid against the Kubernetes schema', (_id, doc) => {
    const Model = MODELS[`${doc.apiVersion}/${doc.kind}`];

    expect(Model).toBeDefined();
    expect(() => new (Model as NonNullable<typeof Model>)(doc as never).validate()).not.toThrow();
  });

  it.each(workloads.map((d) => [d.metadata.name, d] as const))('%s runs locked down, with limits, secrets by reference', (_id, doc) => {
    const pod = podSpecOf(doc);
    const container = pod.containers[0] as Container;
    const volumes = Object.fromEntries((pod.volumes ?? []).map((v) => [v.name, v]));
    const mounts = Object.fromEntries((container.volumeMounts ?? []).map((m) => [m.name, m]));
    const env = Object.fromEntries((container.env ?? []).map((e) => [e.name, e]));

    expect(pod.containers).toHaveLength(1);
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
    expect(container.securityContext).toMatchObject({ runAsNonRoot: true, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false });
    expect(container.securityContext?.capabilities?.drop).toEqual(['ALL']);
    expect(Object.keys(container.resources?.requests ?? {}).sort()).toEqual(['cpu', 'memory']);
    expect(Object.keys(container.resources?.limits ?? {}).sort()).toEqual(['cpu', 'memory']);
    expect(volumes.tmp?.emptyDir).toBeDefined();
    expect(mounts.tmp?.mountPath).toBe('/tmp');
    expect(volumes.runs?.persistentVolumeClaim).toEqual({ claimName: 'lora-catalog-runs', readOnly: true });
    for (const volume of pod.volumes ?? []) {
      const types = Object.keys(volume).filter((k) => k !== 'name');
      expect(
        types.every((t) => RESTRICTED_VOLUME_TYPES.has(t)),
        `${volume.name}: ${types.join(',')}`,
      ).toBe(true);
    }
    expect(mounts.runs?.readOnly).toBe(true);
    expect(mounts.config?.readOnly).toBe(true);
    for (const name of SECRET_ENV) {
      expect(env[name]?.valueFrom?.secretKeyRef).toBeDefined();
      expect(env[name]?.valueFrom?.secretKeyRef?.optional === true).toBe(OPTIONAL_SECRET_ENV.has(name));
      expect(env[name]?.value).toBeUndefined();
    }
  });

  it.each(workloads.map((d) => [d.metadata.name, d] as const))('%s has a deadline, so a hung pod does not run forever', (_id, doc) => {
    const spec =
      doc.kind === 'CronJob'
        ? (doc.spec as { jobTemplate: { spec: { activeDeadlineSeconds?: number } } }).jobTemplate.spec
        : (doc.spec as { activeDeadlineSeconds?: number });

    expect(spec.activeDeadlineSeconds).toBeGreaterThan(0);
  });

  it('schedules CronJobs without overlap, with deadlines, retries and history limits, as the config says', () => {
    const config = configOf(docs);
    const cronJobs = docs.filter((d) => d.kind === 'CronJob') as (Manifest & {
      spec: Record<string, unknown> & { jobTemplate: { spec: { backoffLimit?: number } } };
    })[];
    const jobOf = { 'lora-catalog-full-sync': 'full', 'lora-catalog-incremental-sync': 'incremental', 'lora-catalog-retention': 'retention' } as const;

    for (const cj of cronJobs) {
      const job = jobOf[cj.metadata.name as keyof typeof jobOf];
      expect(cj.spec).toMatchObject({ concurrencyPolicy: 'Forbid', successfulJobsHistoryLimit: 3, failedJobsHistoryLimit: 3 });
      expect(cj.spec.startingDeadlineSeconds).toBeGreaterThan(0);
      expect(cj.spec.jobTemplate.spec.backoffLimit).toBeGreaterThanOrEqual(1);
      expect(cj.spec.schedule).toBe(config.schedule[job]);
      expect(cj.spec.timeZone).toBe(config.schedule.timezone === 'UTC' ? 'Etc/UTC' : config.schedule.timezone);
    }
  });

  it('runs commands the CLI accepts', () => {
    for (const doc of workloads) {
      const args = podSpecOf(doc).containers[0]?.args ?? [];
      const [command, ...rest] = args;
      if (command === 'sync') {
        const shards = doc.kind === 'Job' ? shardCount(doc) : 1;
        for (const index of [0, shards - 1]) {
          expect(
            parseSyncArgs(
              rest.map((a) => a.replace('$(JOB_COMPLETION_INDEX)', String(index))),
              new Date(),
            ),
          ).toBeTypeOf('object');
        }
      } else {
        expect(command).toBe('retention');
      }
    }
  });

  it('backfills as an Indexed Job, one shard per completion index, retries counted per shard', () => {
    const job = docs.find((d) => d.kind === 'Job') as Manifest & {
      spec: { completionMode: string; completions: number; parallelism: number; backoffLimitPerIndex?: number; backoffLimit?: number };
    };
    const container = podSpecOf(job).containers[0] as Container;
    const n = job.spec.completions;
    const shardArg = container.args?.[(container.args.indexOf('--shard') ?? -2) + 1];
    const indexEnv = container.env?.find((e) => e.name === 'JOB_COMPLETION_INDEX');

    expect(job.spec.completionMode).toBe('Indexed');
    expect(job.spec.backoffLimitPerIndex).toBeGreaterThanOrEqual(1);
    expect(job.spec.backoffLimit).toBeUndefined();
    expect(podSpecOf(job).restartPolicy).toBe('Never');
    expect(job.spec.parallelism).toBe(n);
    expect(container.args).toEqual(expect.arrayContaining(['sync', '--mode', 'full', '--backfill', '--shard']));
    expect(shardArg).toBe(`$(JOB_COMPLETION_INDEX)/${n}`);
    expect(indexEnv?.valueFrom?.fieldRef?.fieldPath).toBe("metadata.annotations['batch.kubernetes.io/job-completion-index']");
  });

  it('ships a config that lora-catalog accepts', () => {
    const config = configOf(docs);

    expect(config.sources.length).toBeGreaterThan(0);
    expect(config.sources.some((s) => s.kind === 'fs' && s.path === '/data/runs')).toBe(true);
  });
});

describe('k8s/overlays/example (overlay effects)', () => {
  const docs = renderKustomization(RECURRING.example);
  const backfill = renderKustomization(BACKFILL.example);

  it("sets the namespace, the image and this cluster's NFS export everywhere", () => {
    const namespaced = [...docs, ...backfill].filter((d) => d.kind !== 'PersistentVolume');
    const pv = docs.find((d) => d.kind === 'PersistentVolume') as Manifest & { spec: { nfs: { server: string; path: string } } };

    expect(namespaced.every((d) => d.metadata.namespace === 'ml-catalog')).toBe(true);
    expect([...docs, ...backfill].flatMap(containersOf).map((c) => c.image)).toEqual(Array(4).fill('registry.example.com/ml/lora-catalog:0.1.0'));
    expect(pv.spec.nfs).toEqual({ server: 'filer01.ml.example.com', path: '/vol/training/lora', readOnly: true });
  });

  it('runs 8 backfill shards', () => {
    const job = backfill[0] as Manifest & { spec: { completions: number; parallelism: number } };

    expect([job.spec.completions, job.spec.parallelism]).toEqual([8, 8]);
    expect(containersOf(job)[0]?.args).toContain('$(JOB_COMPLETION_INDEX)/8');
  });

  it('replaces the config map with its own lora-catalog.yaml', () => {
    const own = readFileSync(path.join(RECURRING.example, 'lora-catalog.yaml'), 'utf8');

    expect((docs.find((d) => d.kind === 'ConfigMap') as unknown as { data: Record<string, string> }).data).toEqual({ 'lora-catalog.yaml': own });
  });
});

describe('Dockerfile', () => {
  const text = readFileSync(path.join(REPO, 'Dockerfile'), 'utf8');
  const lines = text.split('\n').filter((l) => l.trim() !== '' && !l.startsWith('#'));

  it('builds on node:24-slim with production deps only, runs as a numeric non-root user, enters the CLI', () => {
    const user = lines
      .find((l) => l.startsWith('USER '))
      ?.slice(5)
      .split(':')[0];

    expect(lines[0]).toBe('FROM node:24-slim');
    expect(lines).toContain('RUN npm ci --omit=dev && npm cache clean --force');
    expect(Number(user)).toBeGreaterThan(0);
    expect(lines).toContain('ENTRYPOINT ["node", "--max-old-space-size=256", "--max-semi-space-size=8", "src/cli/main.ts"]');
  });

  it('runs as the same user the pods require', () => {
    const uid = Number(
      lines
        .find((l) => l.startsWith('USER '))
        ?.slice(5)
        .split(':')[0],
    );
    const pod = podSpecOf(renderKustomization(BACKFILL.base)[0] as Manifest) as PodSpec & { securityContext: { runAsUser?: number } };

    expect(pod.securityContext.runAsUser).toBe(uid);
  });
});

// --- internal ---

function podSpecOf(doc: Manifest): PodSpec {
  const spec = doc.spec as { template?: { spec: PodSpec }; jobTemplate?: { spec: { template: { spec: PodSpec } } } };
  const pod = doc.kind === 'CronJob' ? spec.jobTemplate?.spec.template.spec : spec.template?.spec;
  if (!pod) {
    throw new Error(`${doc.kind}/${doc.metadata.name} has no pod template`);
  }
  return pod;
}

function shardCount(doc: Manifest): number {
  return (doc.spec as { completions: number }).completions;
}

function configOf(docs: Manifest[]): ReturnType<typeof parseConfig> {
  const cm = docs.find((d) => d.kind === 'ConfigMap') as unknown as { data: Record<string, string> };
  return parseConfig(parseYaml(cm.data['lora-catalog.yaml'] ?? ''));
}

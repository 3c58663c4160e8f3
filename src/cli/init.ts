import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { DEFAULT_CONFIG_FILE } from '../config/load.ts';
import type { Io } from './io.ts';

export const INIT_USAGE = `Usage: lora-catalog init [<file>] [--force]
Writes a commented config (default ./${DEFAULT_CONFIG_FILE}) with an fs source and an S3 source to
edit; refuses to overwrite an existing file unless --force. Then: lora-catalog config check.`;

/** The file `init` writes: every section a new user needs, with the defaults spelled out. */
export const INIT_TEMPLATE = `# lora-catalog configuration. Check it with: lora-catalog config check
# Every key is optional except sources; the values shown are the defaults unless marked "example".

sources:
  # A local or NFS directory holding run folders (kohya, lora-scripts, HF Trainer/PEFT, LLaMA-Factory).
  # Relative paths resolve against this file's folder. The name is part of run identity: never rename it.
  - name: nfs-runs            # example
    kind: fs
    path: /data/lora-runs     # example
    # include: ['**']         # globs of files to read (default: everything)
    # exclude: ['**/samples/**']
    # follow_symlinks: false
  # An S3 (or S3-compatible) bucket. Credentials come from the standard AWS chain
  # (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, a profile, IRSA…), never from this file.
  # - name: s3-runs
  #   kind: s3
  #   bucket: ml-training-runs
  #   prefix: lora/
  #   region: us-east-1
  #   # endpoint: http://minio.internal:9000   # MinIO, Ceph…
  #   # force_path_style: true

elasticsearch:
  # Without a url, commands use the embedded local engine (Elasticsearch ${'${'}version}, started on
  # first use and stopped after local.idle_timeout unused). Secrets belong in the environment:
  # LORA_CATALOG_ES_URL, LORA_CATALOG_ES_API_KEY, LORA_CATALOG_ES_USERNAME, LORA_CATALOG_ES_PASSWORD.
  # url: https://elasticsearch.internal:9200
  # ca_cert: /etc/ssl/private-ca.pem
  # request_timeout: 30s
  local:
    idle_timeout: 30m
    heap: 1g

# indices:
#   runs: lora-runs
#   rollups: lora-rollups
#   sync_runs: lora-sync-runs
#   leases: lora-leases

sync:
  # A run missing from a complete listing is marked vanished only after this long.
  vanish_grace: 0s
  # Share of a root's runs that may vanish in one sync before it stops and asks for --allow-mass-vanish.
  max_vanish_share: 0.2

schedule:
  # For \`lora-catalog schedule\` (node-cron syntax) and the Kubernetes CronJobs.
  timezone: UTC
  full: '0 2 * * *'
  incremental: '15 * * * *'
  retention: '30 3 * * *'

retention:
  # Runs tagged with any of these and older than this many days leave the catalogue.
  days: 30
  tags: [debug, test]
`;

/** `init [<file>] [--force]`: writes the commented config; exit 2 when the file exists. */
export async function runInit(args: string[], io: Io): Promise<number> {
  const target = path.resolve(args.find((a) => !a.startsWith('-')) ?? DEFAULT_CONFIG_FILE);
  const force = args.includes('--force');
  const { ES_VERSION } = await import('../engine/elasticsearch.ts');
  try {
    await writeFile(target, INIT_TEMPLATE.replace('${version}', ES_VERSION), { flag: force ? 'w' : 'wx' });
  } catch (err) {
    if ((err as { code?: string }).code === 'EEXIST') {
      io.stderr(`lora-catalog init: ${target} exists; edit it, or pass --force to overwrite it`);
      return 2;
    }
    throw err;
  }
  io.stdout(io.json ? JSON.stringify({ file: target }) : `wrote ${target}\nnext: edit sources, then run lora-catalog config check`);
  return 0;
}

// npm run bench:team [-- --runs N --dir DIR]
// A team folder the way Akegarasu's lora-scripts fill it: N kohya runs side by side under out/, every run's
// TensorBoard folder in the shared out/logs (written once under DIR, reused). Parses every run in process
// with one fs driver, as a sync's parse pool does, and prints wall time, CPU and the listings it asked for:
// a folder many runs look into (the shared logs, their parent) must be listed once, not once per run.
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { adapters } from '../src/formats/index.ts';
import { parseRun } from '../src/formats/parse-run.ts';
import { createFsDriver } from '../src/sources/drivers/fs.ts';
import type { SourceDriver } from '../src/sources/types.ts';
import { discoverRuns } from '../src/sync/discover.ts';
import { toRunDoc } from '../src/sync/doc.ts';
import { kohyaMetadata, lossEvents, safetensorsBytes, STARTED_AT } from '../test/fixtures/make-kohya.ts';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '2000' }, dir: { type: 'string', default: '/var/tmp/lora-bench' } } });
const runs = Number(values.runs);
const root = path.join(values.dir, `kohya-team-${runs}`);
if (!existsSync(path.join(root, 'done'))) {
  const tf = `events.out.tfevents.${Math.floor(STARTED_AT) + 1}.trainbox.4242.0`;
  for (let i = 0; i < runs; i++) {
    const name = `style${i}`;
    await put(`team/out/${name}/${name}.safetensors`, safetensorsBytes(kohyaMetadata({ ss_output_name: name, ss_session_id: String(1000 + i) })));
    await put(`team/out/logs/${name}20240301101500/network_train/${tf}`, lossEvents('loss/epoch', 3));
  }
  await writeFile(path.join(root, 'done'), '');
}

const fs = createFsDriver({ root });
const lists = new Map<string, number>();
const driver: SourceDriver = {
  ...fs,
  list(prefix) {
    lists.set(prefix, (lists.get(prefix) ?? 0) + 1);
    return fs.list(prefix);
  },
};
const now = new Date();
const t0 = performance.now();
const c0 = process.cpuUsage();
let parsed = 0;
let withLoss = 0;
for await (const item of discoverRuns(driver, 'team', adapters)) {
  if (item.kind === 'run') {
    const record = await parseRun(item, { driver, root: { name: 'team', kind: 'fs', uri: root }, now });
    JSON.stringify(toRunDoc(record, { now, firstSeenAt: null }));
    parsed += 1;
    withLoss += record.loss_source === 'tfevents' ? 1 : 0;
  }
}
const wall = (performance.now() - t0) / 1000;
const cpu = process.cpuUsage(c0);
const listed = [...lists].map(([prefix, n]) => `${prefix || '.'} ×${n}`).join(', ');
process.stdout.write(
  `${parsed} runs (${withLoss} linked to their shared log) in ${wall.toFixed(2)} s, ${((cpu.user + cpu.system) / 1e6).toFixed(2)} CPU s, ` +
    `${Math.round(parsed / wall)} runs/s; listings: ${listed}\n`,
);

async function put(rel: string, bytes: Uint8Array): Promise<void> {
  const file = path.join(root, rel);
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, bytes);
}

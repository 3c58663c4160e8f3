// npm run bench:article [-- --runs 10000 --dir /var/tmp/lora-bench --heap 1g]
// Only the article-format comparison (see bench/article.ts), on its own embedded Elasticsearch.
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { articleComparison, articleTable, startBenchEngine } from './article.ts';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '10000' },
    dir: { type: 'string', default: '/var/tmp/lora-bench' },
    heap: { type: 'string', default: '1g' },
    project: { type: 'string', multiple: true },
    'backfill-only': { type: 'boolean', default: false },
  },
});
const es = await startBenchEngine('lora-article-es', values.heap);
try {
  // Several --project checkouts: each measured in turn on the same engine and tree (A/B), under its own index names.
  const projects = values.project ?? [path.resolve(import.meta.dirname, '..')];
  const tables: string[] = [];
  const results = [];
  for (const [i, project] of projects.entries()) {
    const result = await articleComparison({
      n: Number(values.runs),
      dir: values.dir,
      esUrl: es.url,
      esPid: es.pid as number,
      project,
      prefix: `article${i}`,
      backfillOnly: values['backfill-only'],
    });
    results.push({ project, ...result });
    tables.push(`${project}\n\n${articleTable(result)}`);
    process.stderr.write(`${tables.at(-1)}\n`);
  }
  const table = tables.join('\n\n');
  const result = results;
  process.stdout.write(`${table}\n`);
  const repo = path.resolve(import.meta.dirname, '..');
  await mkdir(path.join(repo, 'bench', 'results'), { recursive: true });
  const stamp = new Date().toISOString().replaceAll(':', '-').slice(0, 19);
  await writeFile(
    path.join(repo, 'bench', 'results', `${stamp}-article-${values.runs}.md`),
    `${table}\n\n\`\`\`json\n${JSON.stringify(result, null, 2)}\n\`\`\`\n`,
  );
} finally {
  await es.stop();
}

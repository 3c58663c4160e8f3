import type { AppContext } from '../context.ts';
import { applyIndices, indicesStatus, migrateIndex, type IndexRole } from '../es/indices.ts';
import type { Io } from './io.ts';

export const INDICES_USAGE = `Usage: lora-catalog indices <apply|status|migrate> [--json]

  apply     create index templates and versioned indices behind their aliases (idempotent)
  status    each alias, the index behind it, its mapping version and document count
  migrate   move every alias whose mapping is older to a new versioned index (copy + atomic alias swap)`;

/** `lora-catalog indices`: apply, inspect and migrate the versioned indices behind their aliases. */
export async function indicesCommand(ctx: AppContext, args: string[], io: Io): Promise<number> {
  const sub = args.find((a) => !a.startsWith('-'));
  if (sub === 'apply' || sub === 'status') {
    const status = sub === 'apply' ? await applyIndices(ctx.client, ctx.config) : await indicesStatus(ctx.client, ctx.config);
    io.stdout(
      io.json
        ? JSON.stringify(status, null, 2)
        : status
            .map((s) =>
              s.index === null
                ? `${s.alias.padEnd(18)} → (none yet: \`lora-catalog sync\` or \`indices apply\` creates it)`
                : `${s.alias.padEnd(18)} → ${s.index.padEnd(22)} v${s.version ?? '-'}  ${s.docs ?? 0} docs${s.needsMigration ? '  needs migrate' : ''}`,
            )
            .join('\n'),
    );
    return 0;
  }
  if (sub === 'migrate') {
    const results = [];
    for (const role of ['runs', 'rollups', 'sync_runs', 'leases'] satisfies IndexRole[]) {
      results.push({ role, ...(await migrateIndex(ctx.client, ctx.config, role)) });
    }
    io.stdout(
      io.json ? JSON.stringify(results, null, 2) : results.map((r) => `${r.role}: ${r.from ?? '(none)'} → ${r.to}, ${r.copied} docs copied`).join('\n'),
    );
    return 0;
  }
  io.stderr(INDICES_USAGE);
  return 2;
}

import type { AppContext } from '../src/context.ts';
import { PipelineError } from '../src/errors.ts';
import { runRetention, type RetentionReport } from '../src/scheduler/retention.ts';

/** Scheduled retention: fails (so the scheduler retries) when any delete failed. */
export async function retention(ctx: AppContext): Promise<RetentionReport> {
  const report = await runRetention(ctx);
  if (report.failed > 0) {
    throw new PipelineError('bulk-failed', `[retention] ${report.failed} runs could not be retired, e.g. ${report.errors[0]?.reason ?? ''}`);
  }
  return report;
}

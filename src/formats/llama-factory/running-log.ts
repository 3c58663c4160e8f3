import { parsePyDictLine } from '../common/py-literal.ts';
import { createLossAggregator, type LossSummary } from '../common/hf-trainer/epoch-loss.ts';

/** What the web UI's `running_log.txt` says. */
export interface RunningLogSummary {
  /** First / last `[LEVEL|YYYY-MM-DD HH:MM:SS]` stamp as ISO. The log is in the trainer's local zone, which is not recorded: read as UTC. */
  firstTime: string | null;
  lastTime: string | null;
  /** The line that LLaMA-Factory or the Trainer writes only after training or prediction finished. */
  completionMarker: string | null;
  /** `***** Running training *****` was logged. */
  trainingStarted: boolean;
  /** The last line of a Python traceback (`torch.OutOfMemoryError: CUDA out of memory…`) when one was logged. */
  failure: string | null;
  /** Loss from the Python-dict log lines (`{'loss': 2.2818, 'learning_rate': 2.5e-06, 'epoch': 0.29}`). */
  loss: LossSummary;
  lines: number;
}

const STAMP = /^\[[A-Z]+\|(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2})\]/;

/** Lines written after training/prediction returned (FORMATS §4.3); their presence means the run finished. */
const COMPLETION_MARKERS: readonly RegExp[] = [
  /Training completed\. Do not forget to share your model/,
  /Figure saved at: /,
  /No metric \S+ to plot\./,
  /Saving prediction results to /,
];

/** A traceback's header, and the `SomeError: message` line that ends it. */
const TRACEBACK = 'Traceback (most recent call last)';
const EXCEPTION_LINE = /^(?:[\w.]+\.)?\w*(?:Error|Exception): \S/;

/** Markers are short; only the start of the line is kept as evidence. */
const MAX_MARKER = 200;

/** Streams `running_log.txt`. Never throws for odd lines; memory is constant. */
export async function parseRunningLog(lines: Iterable<string> | AsyncIterable<string>): Promise<RunningLogSummary> {
  const loss = createLossAggregator();
  let firstTime: string | null = null;
  let lastTime: string | null = null;
  let completionMarker: string | null = null;
  let trainingStarted = false;
  let inTraceback = false;
  let failure: string | null = null;
  let count = 0;
  for await (const line of lines) {
    count++;
    trainingStarted ||= line.includes('***** Running training *****');
    inTraceback ||= line.startsWith(TRACEBACK);
    if (inTraceback && EXCEPTION_LINE.test(line)) {
      failure = line.trim().slice(0, MAX_MARKER);
      inTraceback = false;
    }
    const stamp = STAMP.exec(line);
    if (!stamp) {
      continue;
    }
    const iso = `${stamp[1]}T${stamp[2]}.000Z`;
    firstTime ??= iso;
    lastTime = iso;
    if (line.includes("'loss'")) {
      const dict = parsePyDictLine(line);
      if (typeof dict?.loss === 'number') {
        loss.add(dict.loss, typeof dict.epoch === 'number' ? dict.epoch : null);
      }
    }
    if (completionMarker === null && COMPLETION_MARKERS.some((marker) => marker.test(line))) {
      completionMarker = line.slice(stamp[0].length).trim().slice(0, MAX_MARKER);
    }
  }
  return { firstTime, lastTime, completionMarker, trainingStarted, failure, loss: loss.result(), lines: count };
}

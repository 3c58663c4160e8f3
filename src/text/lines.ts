/** Cap on one log line; a longer line is cut, so a log without newlines cannot exhaust memory. */
export const MAX_LINE = 64 * 1024;

/** Where the lines of a text in memory start and end, as the streaming splitter cuts them. */
export interface LineSpans {
  /** Where each line starts and ends (its `\n`, or the end of the text): split on `\n`, no empty line after a final `\n`. */
  starts: number[];
  ends: number[];
  /** Some line is longer than MAX_LINE (a stream cuts such a line wherever its chunks happen to end). */
  long: boolean;
}

export function lineSpans(text: string): LineSpans {
  const starts: number[] = [];
  const ends: number[] = [];
  let long = false;
  let start = 0;
  while (start < text.length) {
    let end = text.indexOf('\n', start);
    if (end < 0) {
      end = text.length;
    }
    long ||= end - start > MAX_LINE;
    starts.push(start);
    ends.push(end);
    start = end + 1;
  }
  return { starts, ends, long };
}

/** Line i: cut at MAX_LINE, a `\r` before its `\n` dropped. */
export function lineAt(text: string, spans: LineSpans, i: number): string {
  const start = spans.starts[i] as number;
  const line = text.slice(start, Math.min(spans.ends[i] as number, start + MAX_LINE));
  return line.endsWith('\r') ? line.slice(0, -1) : line;
}

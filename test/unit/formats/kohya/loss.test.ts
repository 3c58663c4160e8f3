import { describe, expect, it } from 'vitest';

import { splitEpochs, type EpochEvidence } from '../../../../src/formats/kohya/epoch-split.ts';
import { summarizeLoss } from '../../../../src/formats/kohya/loss.ts';
import { createLossCollector, type LossPoints } from '../../../../src/formats/kohya/loss-points.ts';

/** `c` = loss/current, `e` = loss/epoch, `a` = loss/average: [kind, step, wallTime, value]. */
type Row = ['c' | 'e' | 'a', number, number, number];

const TAGS = { c: 'loss/current', e: 'loss/epoch', a: 'loss/average' } as const;

/** The points of one event file per inner array, in file order. */
function collect(...files: Row[][]): LossPoints {
  const collector = createLossCollector();
  for (const rows of files) {
    collector.nextFile();
    for (const [kind, step, wallTime, value] of rows) {
      collector.add({ tag: TAGS[kind], step, wallTime, value });
    }
  }
  return collector.result();
}

/** Two epochs of two steps, no accumulation: losses 0.4 0.2 | 0.3 0.1 at steps 1 2 | 3 4. */
const STEPS: Row[] = [
  ['c', 1, 10, 0.4],
  ['c', 2, 11, 0.2],
  ['c', 3, 13, 0.3],
  ['c', 4, 14, 0.1],
];

const NO_EVIDENCE: EpochEvidence = { checkpointSteps: new Map(), stepsPerEpoch: null };

describe('formats/kohya/epoch-split', () => {
  it('splits by file order when the epoch scalar follows its epoch at step = epoch number (sd-scripts), even with equal wall times', () => {
    const points = collect([
      ['c', 1, 5, 0.4],
      ['c', 2, 5, 0.2],
      ['e', 1, 5, 0.3],
      ['c', 3, 5, 0.3],
      ['c', 4, 5, 0.1],
      ['e', 2, 5, 0.2],
    ]);

    const split = splitEpochs(points, NO_EVIDENCE);

    expect(split).toEqual({
      basis: 'file-order',
      warnings: [],
      perEpoch: [
        { epoch: 1, mean: 0.3, last: 0.2, min: 0.2, steps: 2 },
        { epoch: 2, mean: 0.2, last: 0.1, min: 0.1, steps: 2 },
      ],
    });
  });

  it('uses the epoch scalars’ steps when they are global steps, wherever they sit in the file', () => {
    // All epoch scalars written after every step point, with a later wall time: the old split put every step in epoch 1.
    const points = collect([...STEPS, ['e', 2, 99, 0.3], ['e', 4, 99.5, 0.2]]);

    const split = splitEpochs(points, NO_EVIDENCE);

    expect(split.basis).toBe('epoch-event-steps');
    expect(split.perEpoch).toEqual([
      { epoch: 1, mean: 0.3, last: 0.2, min: 0.2, steps: 2 },
      { epoch: 2, mean: 0.2, last: 0.1, min: 0.1, steps: 2 },
    ]);
  });

  it('falls back to the wall times when the file order does not separate the epochs', () => {
    const points = collect([...STEPS, ['e', 1, 12, 0.3], ['e', 2, 15, 0.2]]);

    const split = splitEpochs(points, NO_EVIDENCE);

    expect(split.basis).toBe('wall-time');
    expect(split.perEpoch.map((e) => [e.epoch, e.last, e.steps])).toEqual([
      [1, 0.2, 2],
      [2, 0.1, 2],
    ]);
  });

  it('keeps only the epoch means, with a warning, when nothing says which steps belong to which epoch', () => {
    const points = collect([...STEPS, ['e', 1, 99, 0.3], ['e', 2, 99, 0.2]]);

    const split = splitEpochs(points, NO_EVIDENCE);

    expect(split.basis).toBe('none');
    expect(split.perEpoch).toEqual([
      { epoch: 1, mean: 0.3, last: null, min: null, steps: null },
      { epoch: 2, mean: 0.2, last: null, min: null, steps: null },
    ]);
    expect(split.warnings).toEqual([expect.stringContaining('4 step points but nothing maps them to epochs')]);
  });

  it('invents no epoch from step points alone', () => {
    const split = splitEpochs(collect(STEPS), NO_EVIDENCE);

    expect([split.basis, split.perEpoch, split.warnings.length]).toEqual(['none', [], 1]);
  });

  it('splits by steps per epoch, counting the pre-update micro-batches of gradient accumulation (step 0) in epoch 1', () => {
    // Accumulation 2: micro-batches log at steps 0 1 | 1 2 (global_step grows on every second micro-batch).
    const points = collect([
      ['c', 0, 1, 0.5],
      ['c', 1, 2, 0.4],
      ['c', 1, 3, 0.3],
      ['c', 2, 4, 0.2],
    ]);

    const split = splitEpochs(points, { checkpointSteps: new Map(), stepsPerEpoch: 1 });

    expect(split.basis).toBe('steps-per-epoch');
    expect(split.perEpoch).toEqual([
      { epoch: 1, mean: 0.45, last: 0.4, min: 0.4, steps: 1 },
      { epoch: 2, mean: 0.25, last: 0.2, min: 0.2, steps: 1 },
    ]);
  });

  it.each([
    ['no steps per epoch', null],
    ['steps per epoch the checkpoints contradict', 3],
  ])('splits by the checkpoints’ ss_steps with %s; later steps form the unfinished epoch', (_name, stepsPerEpoch) => {
    const points = collect([...STEPS, ['c', 5, 16, 0.6]]);

    const split = splitEpochs(points, {
      checkpointSteps: new Map([
        [1, 2],
        [2, 4],
      ]),
      stepsPerEpoch,
    });

    expect(split.basis).toBe('checkpoint-steps');
    expect(split.perEpoch).toEqual([
      { epoch: 1, mean: 0.3, last: 0.2, min: 0.2, steps: 2 },
      { epoch: 2, mean: 0.2, last: 0.1, min: 0.1, steps: 2 },
      { epoch: 3, mean: 0.6, last: 0.6, min: 0.6, steps: 1 },
    ]);
  });

  it('leaves out the epochs whose start no checkpoint gives', () => {
    const split = splitEpochs(collect(STEPS), { checkpointSteps: new Map([[2, 4]]), stepsPerEpoch: null });

    expect([split.basis, split.perEpoch]).toEqual(['none', []]);
  });

  it('drops the interrupted epoch of a first event file when the resumed run logs it again', () => {
    const first: Row[] = [
      ['c', 1, 1, 0.4],
      ['c', 2, 2, 0.2],
      ['e', 1, 3, 0.3],
      ['c', 3, 4, 0.9],
    ];
    const resumed: Row[] = [
      ['c', 3, 10, 0.3],
      ['c', 4, 11, 0.1],
      ['e', 2, 12, 0.2],
    ];

    const split = splitEpochs(collect(first, resumed), NO_EVIDENCE);

    expect(split.perEpoch.map((e) => [e.epoch, e.mean, e.last, e.min])).toEqual([
      [1, 0.3, 0.2, 0.2],
      [2, 0.2, 0.1, 0.1],
    ]);
    expect(split.warnings).toEqual([expect.stringContaining('1 step points after the last epoch of event file 1')]);
  });
  it('keeps only the epoch means when there were more step points than it keeps', () => {
    const collector = createLossCollector(3);
    collector.nextFile();
    for (const [kind, step, wallTime, value] of [...STEPS.slice(0, 2), ['e', 1, 12, 0.3], ...STEPS.slice(2), ['e', 2, 15, 0.2]] as Row[]) {
      collector.add({ tag: TAGS[kind], step, wallTime, value });
    }

    const split = splitEpochs(collector.result(), NO_EVIDENCE);

    expect(split.perEpoch).toEqual([
      { epoch: 1, mean: 0.3, last: null, min: null, steps: null },
      { epoch: 2, mean: 0.2, last: null, min: null, steps: null },
    ]);
    expect(split.warnings).toEqual(['loss/current: 4 points, more than the 3 kept; per-epoch last/min/steps left empty']);
  });

  it('reports no dropped epoch when the file order was not used after all', () => {
    const first: Row[] = [
      ['c', 1, 1, 0.4],
      ['e', 1, 2, 0.4],
      ['c', 2, 3, 0.9],
    ];
    const resumed: Row[] = [
      ['c', 2, 10, 0.3],
      ['c', 3, 10, 0.1],
      ['e', 2, 10, 0.2],
      ['e', 3, 10, 0.1],
    ];

    const split = splitEpochs(collect(first, resumed), NO_EVIDENCE);

    expect(split.basis).toBe('none');
    expect(split.warnings).toEqual([expect.stringContaining('nothing maps them to epochs')]);
  });
});

describe('formats/kohya/loss', () => {
  it('takes final and lowest loss from the epochs, else from loss/average', () => {
    const withEpochs = collect([...STEPS.slice(0, 2), ['e', 1, 12, 0.3], ...STEPS.slice(2), ['e', 2, 15, 0.2]]);
    const averageOnly = collect([
      ['a', 1, 1, 0.5],
      ['a', 2, 2, 0.4],
    ]);

    const a = summarizeLoss(withEpochs, splitEpochs(withEpochs, NO_EVIDENCE));
    const b = summarizeLoss(averageOnly, splitEpochs(averageOnly, NO_EVIDENCE));

    expect([a.lossFinal, a.lossMin, a.bestEpoch, a.points, a.firstWallTime, a.lastWallTime]).toEqual([0.2, 0.2, 2, 6, 10, 15]);
    expect([b.perEpoch, b.lossFinal, b.lossMin, b.bestEpoch, b.points]).toEqual([[], 0.4, 0.4, null, 2]);
  });
});

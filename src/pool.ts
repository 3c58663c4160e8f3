/** A bounded-concurrency pool: `run` waits while `size` tasks are running, then starts the task; `drain` waits for all. A failed task fails the next `run` or `drain`. */
export interface Pool {
  run(task: () => Promise<void>): Promise<void>;
  drain(): Promise<void>;
}

export function createPool(size: number): Pool {
  const active = new Set<Promise<void>>();
  return {
    async run(task) {
      while (active.size >= size) {
        await Promise.race(active);
      }
      const p: Promise<void> = task().finally(() => active.delete(p));
      active.add(p);
    },
    async drain() {
      while (active.size > 0) {
        await Promise.race(active);
      }
    },
  };
}

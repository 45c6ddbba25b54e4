import { describeError } from './errors.js';

/**
 * Group commit for small writes: while one write is on its way, the items added meanwhile wait,
 * and the next write carries all of them. An idle committer writes at once, so a lone item waits
 * for nobody; under load one round trip carries many items. Each `add` resolves when the write
 * that carried its item succeeded, and rejects with that write's error.
 *
 * `gatherMs` makes an idle committer wait that long for company before its first write: for
 * writers that arrive together but not at the same instant (the partitions of one Kafka fetch),
 * where a write costs much more than the wait.
 */
export class GroupCommit<T> {
  readonly #write: (items: readonly T[]) => Promise<void>;
  #waiting: { readonly item: T; readonly done: (error?: Error) => void }[] = [];
  readonly #gatherMs: number;
  #writing = false;

  constructor(write: (items: readonly T[]) => Promise<void>, options: { gatherMs?: number } = {}) {
    this.#write = write;
    this.#gatherMs = options.gatherMs ?? 0;
  }

  add(item: T): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.#waiting.push({
        item,
        done: (error?: Error) => {
          if (error === undefined) resolve();
          else reject(error);
        },
      });
      void this.#drain();
    });
  }

  async #drain(): Promise<void> {
    if (this.#writing) return;
    this.#writing = true;
    try {
      if (this.#gatherMs > 0) await new Promise((resolve) => setTimeout(resolve, this.#gatherMs));
      while (this.#waiting.length > 0) {
        const group = this.#waiting;
        this.#waiting = [];
        try {
          await this.#write(group.map((w) => w.item));
          for (const w of group) w.done();
        } catch (error) {
          const failed = error instanceof Error ? error : new Error(describeError(error));
          for (const w of group) w.done(failed);
        }
      }
    } finally {
      this.#writing = false;
    }
  }
}

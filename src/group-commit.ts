import { describeError } from './errors.js';

/**
 * Group commit for small writes: while one write is on its way, the items added meanwhile wait,
 * and the next write carries all of them. An idle committer writes at once, so a lone item waits
 * for nobody; under load one round trip carries many items. Each `add` resolves when the write
 * that carried its item succeeded, and rejects with that write's error.
 */
export class GroupCommit<T> {
  readonly #write: (items: readonly T[]) => Promise<void>;
  #waiting: { readonly item: T; readonly done: (error?: Error) => void }[] = [];
  #writing = false;

  constructor(write: (items: readonly T[]) => Promise<void>) {
    this.#write = write;
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

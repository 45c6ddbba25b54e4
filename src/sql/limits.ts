import { SqlError } from './errors.js';

/**
 * Admission of statements: each API key may have `perKey` statements open (running or waiting),
 * and at most `running` run at once in the process; the rest wait their turn in order.
 *
 * The process-wide bound is what keeps a slow statement from stalling ingest: each running
 * statement holds one of libuv's worker threads (4 unless UV_THREADPOOL_SIZE says otherwise),
 * and the processor's ClickHouse writes need one too.
 */
export class Admission {
  readonly #perKey: number;
  readonly #running: number;
  readonly #open = new Map<string, number>();
  readonly #waiting: (() => void)[] = [];
  #active = 0;

  constructor(perKey: number, running: number) {
    this.#perKey = perKey;
    this.#running = running;
  }

  /**
   * Waits for a turn; resolves with the function that gives it back. Refuses at once when the
   * key already has its share open; a wait ends early, refused, if `signal` aborts.
   */
  async enter(key: string, signal: AbortSignal): Promise<() => void> {
    const open = this.#open.get(key) ?? 0;
    if (open >= this.#perKey) {
      throw SqlError.of(
        'TOO_MANY_SIMULTANEOUS_QUERIES',
        `Too many simultaneous queries for this key. Maximum: ${this.#perKey}`,
      );
    }
    this.#open.set(key, open + 1);
    const leaveKey = () => {
      const n = (this.#open.get(key) ?? 1) - 1;
      if (n <= 0) this.#open.delete(key);
      else this.#open.set(key, n);
    };
    if (this.#active >= this.#running) {
      try {
        await new Promise<void>((resolve, reject) => {
          const turn = () => {
            signal.removeEventListener('abort', onAbort);
            resolve();
          };
          const onAbort = () => {
            const i = this.#waiting.indexOf(turn);
            if (i >= 0) this.#waiting.splice(i, 1);
            reject(SqlError.of('QUERY_WAS_CANCELLED', 'Client went away while the query waited'));
          };
          this.#waiting.push(turn);
          signal.addEventListener('abort', onAbort, { once: true });
        });
      } catch (error) {
        leaveKey();
        throw error;
      }
    } else {
      this.#active++;
    }
    let left = false;
    return () => {
      if (left) return;
      left = true;
      leaveKey();
      // Hand the slot straight to the next waiter, or free it.
      const next = this.#waiting.shift();
      if (next) next();
      else this.#active--;
    };
  }
}

/**
 * Shares reads of one key among concurrent callers without ever answering from before a call: a
 * caller that finds a read of its key already on its way (which may have been sent before the
 * call) waits for it to end and then gets the next read, which starts once that one has ended and
 * is shared with everyone who arrived meanwhile. So each answer comes from a read started after
 * its call, and a key has at most one read on its way and one waiting, however many callers.
 * Used for live windows, where 200 dashboards reading one survey were 200 identical reads.
 */
export class FreshReads<V> {
  readonly #running = new Map<string, Promise<V>>();
  readonly #next = new Map<string, Promise<V>>();

  read(key: string, read: () => Promise<V>): Promise<V> {
    const next = this.#next.get(key);
    if (next !== undefined) return next;
    const running = this.#running.get(key);
    if (running === undefined) return this.#start(key, read);
    const settled = () => undefined;
    const queued = running.then(settled, settled).then(() => {
      this.#next.delete(key);
      return this.#start(key, read);
    });
    this.#next.set(key, queued);
    return queued;
  }

  #start(key: string, read: () => Promise<V>): Promise<V> {
    const reading = read();
    this.#running.set(key, reading);
    const done = () => {
      if (this.#running.get(key) === reading) this.#running.delete(key);
    };
    reading.then(done, done);
    return reading;
  }
}

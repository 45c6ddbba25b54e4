import { describe, expect, it } from 'vitest';
import { FreshReads } from '../../src/fresh-reads.js';

/** A store whose reads answer its value as of when the read started, once told to finish. */
function slowStore() {
  let value = 0;
  const pending: (() => void)[] = [];
  let started = 0;
  const read = () => {
    started += 1;
    const seen = value;
    return new Promise<number>((resolve) => {
      pending.push(() => {
        resolve(seen);
      });
    });
  };
  return {
    read,
    set: (v: number) => (value = v),
    finishNext: () => pending.shift()?.(),
    started: () => started,
  };
}

const flush = async () => {
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
};

describe('FreshReads', () => {
  it('never answers a caller from a read that started before its call', async () => {
    const store = slowStore();
    const reads = new FreshReads<number>();
    const first = reads.read('k', store.read);
    store.set(1); // a write lands after the first read started, before the next callers arrive
    const later = [reads.read('k', store.read), reads.read('k', store.read)];
    store.finishNext();
    await expect(first).resolves.toBe(0);
    await flush();
    // The later callers share one new read, which sees the write.
    expect(store.started()).toBe(2);
    store.finishNext();
    await expect(Promise.all(later)).resolves.toEqual([1, 1]);
  });

  it('keeps at most one read on its way and one waiting per key, however many callers', async () => {
    const store = slowStore();
    const reads = new FreshReads<number>();
    const answers = Array.from({ length: 200 }, () => reads.read('k', store.read));
    const other = reads.read('other', store.read);
    expect(store.started()).toBe(2); // 'k' and 'other'
    store.finishNext();
    store.finishNext();
    await flush();
    expect(store.started()).toBe(3); // the one waiting read of 'k'
    store.finishNext();
    await Promise.all([...answers, other]);
    // A caller after everything settled starts a read of its own.
    void reads.read('k', store.read);
    expect(store.started()).toBe(4);
  });

  it('a failed read fails its callers, and the next caller reads again', async () => {
    const reads = new FreshReads<number>();
    await expect(reads.read('k', () => Promise.reject(new Error('redis down')))).rejects.toThrow(
      'redis down',
    );
    await expect(reads.read('k', () => Promise.resolve(7))).resolves.toBe(7);
  });
});

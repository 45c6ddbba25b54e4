import { describe, expect, it, vi } from 'vitest';
import { GroupCommit } from '../../src/group-commit.js';

/** A write that records each call and resolves (or fails) only when told. */
function gatedWrite() {
  const calls: number[][] = [];
  const gates: { open: () => void; fail: (e: Error) => void }[] = [];
  const write = (items: readonly number[]) => {
    calls.push([...items]);
    return new Promise<void>((resolve, reject) => {
      gates.push({ open: resolve, fail: reject });
    });
  };
  return { calls, gates, write };
}

const flush = () => new Promise((resolve) => setImmediate(resolve));

describe('GroupCommit', () => {
  it('writes a lone item at once, and the items added during a write together in the next', async () => {
    const { calls, gates, write } = gatedWrite();
    const commit = new GroupCommit<number>(write);
    const first = commit.add(1);
    expect(calls).toEqual([[1]]);
    const later = [commit.add(2), commit.add(3), commit.add(4)];
    await flush();
    expect(calls).toEqual([[1]]);
    gates[0]?.open();
    await first;
    await flush();
    expect(calls).toEqual([[1], [2, 3, 4]]);
    gates[1]?.open();
    await Promise.all(later);
    expect(calls).toHaveLength(2);
  });

  it('a failed write rejects every item it carried, and the next write goes on', async () => {
    const { calls, gates, write } = gatedWrite();
    const commit = new GroupCommit<number>(write);
    const first = commit.add(1);
    const second = commit.add(2);
    const third = commit.add(3);
    gates[0]?.open();
    await first;
    await flush();
    gates[1]?.fail(new Error('redis down'));
    await expect(second).rejects.toThrow('redis down');
    await expect(third).rejects.toThrow('redis down');
    const fourth = commit.add(4);
    await flush();
    expect(calls).toEqual([[1], [2, 3], [4]]);
    gates[2]?.open();
    await expect(fourth).resolves.toBeUndefined();
  });

  it('with gatherMs, an idle committer waits that long and writes what arrived meanwhile at once', async () => {
    vi.useFakeTimers();
    try {
      const { calls, gates, write } = gatedWrite();
      const commit = new GroupCommit<number>(write, { gatherMs: 5 });
      const added = [commit.add(1)];
      await vi.advanceTimersByTimeAsync(3);
      added.push(commit.add(2));
      expect(calls).toEqual([]);
      await vi.advanceTimersByTimeAsync(2);
      expect(calls).toEqual([[1, 2]]);
      // Busy: what arrives now waits for the write on its way, not for the timer.
      added.push(commit.add(3));
      gates[0]?.open();
      await vi.advanceTimersByTimeAsync(0);
      expect(calls).toEqual([[1, 2], [3]]);
      gates[1]?.open();
      await Promise.all(added);
    } finally {
      vi.useRealTimers();
    }
  });
});

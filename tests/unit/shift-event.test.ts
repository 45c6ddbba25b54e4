import { describe, expect, it } from 'vitest';
import { observeBatch } from '../../src/domain/shift-event.js';
import type { ShiftInput, VersionedShiftState } from '../../src/domain/shift-event.js';
import { DEFAULT_SHIFT_OPTIONS, initialShiftState, observe } from '../../src/domain/shift.js';
import type { ShiftState } from '../../src/domain/shift.js';
import type { Channel } from '../../src/domain/response.js';
import { mulberry32 } from '../support/mulberry32.js';

const OPTIONS = { ...DEFAULT_SHIFT_OPTIONS, warmUp: 200 };
const CHANNELS: Channel[] = ['web', 'sms'];

/** `stable` answers at NPS 20, then `dropped` at NPS -40, spread over two channels. */
function answers(stable: number, dropped: number, seed = 7): ShiftInput[] {
  const random = mulberry32(seed);
  const out: ShiftInput[] = [];
  for (let i = 0; i < stable + dropped; i++) {
    const [p, d] = i < stable ? [0.45, 0.25] : [0.2, 0.6];
    const u = random();
    out.push({
      surveyId: 'shop.dk',
      channel: CHANNELS[i % 2] ?? 'web',
      score: u < p ? 10 : u < p + d ? 2 : 7,
      atMs: 1_700_000_000_000 + i * 1000,
    });
  }
  return out;
}

describe('observeBatch', () => {
  it('feeds each answer to the survey detector and to its channel detector, in order', () => {
    const inputs = answers(1500, 400);
    const { states, shifts } = observeBatch(new Map(), inputs, OPTIONS);
    expect([...states.keys()].sort()).toEqual(['shop.dk', 'shop.dk:sms', 'shop.dk:web']);

    // The same as calling the detector answer by answer.
    let all: ShiftState = initialShiftState();
    const expected: { direction: string; detectedAt: string; after: number }[] = [];
    for (const input of inputs) {
      const value = input.score >= 9 ? 1 : input.score <= 6 ? -1 : 0;
      const result = observe(all, value, input.atMs, OPTIONS);
      all = result.state;
      if (result.shift)
        expected.push({
          direction: result.shift.direction,
          detectedAt: new Date(result.shift.detectedAtMs).toISOString(),
          after: result.shift.after,
        });
    }
    expect(states.get('shop.dk')?.state).toEqual(all);
    expect(
      shifts
        .filter((s) => s.channel === null)
        .map(({ direction, detectedAt, after }) => ({ direction, detectedAt, after })),
    ).toEqual(expected);
    expect(expected).toEqual([expect.objectContaining({ direction: 'down' })]);
    expect(shifts.filter((s) => s.channel === 'web').length).toBe(1);
    expect(shifts.filter((s) => s.channel === 'sms').length).toBe(1);
  });

  it('bumps each version by one and names shifts the same way for the same stored states', () => {
    const inputs = answers(1500, 400);
    const stored = new Map<string, VersionedShiftState>([
      ['shop.dk', { version: 41, state: initialShiftState() }],
    ]);
    const once = observeBatch(stored, inputs, OPTIONS);
    const again = observeBatch(stored, inputs, OPTIONS);
    expect(again).toEqual(once);
    expect(once.states.get('shop.dk')?.version).toBe(42);
    expect(once.states.get('shop.dk:web')?.version).toBe(1);
    const ids = once.shifts.map((s) => s.shiftId);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.every((id) => /^[0-9a-f]{32}$/.test(id))).toBe(true);
  });

  it('finds the same shifts whether the answers come in one batch or in many', () => {
    const inputs = answers(1500, 400, 11);
    const whole = observeBatch(new Map(), inputs, OPTIONS);
    let stored: ReadonlyMap<string, VersionedShiftState> = new Map();
    const pieces = [];
    for (let start = 0; start < inputs.length; start += 97) {
      const batch = observeBatch(stored, inputs.slice(start, start + 97), OPTIONS);
      stored = new Map([...stored, ...batch.states]);
      pieces.push(...batch.shifts);
    }
    const content = (s: { shiftId: string }) => ({ ...s, shiftId: undefined });
    expect(pieces.map(content)).toEqual(whole.shifts.map(content));
    expect(stored.get('shop.dk')?.state).toEqual(whole.states.get('shop.dk')?.state);
    // Different writes, different ids: a shift id is never reused.
    const ids = [...pieces, ...whole.shifts].map((s) => s.shiftId);
    expect(new Set(ids).size).toBe(ids.length);
  });
});

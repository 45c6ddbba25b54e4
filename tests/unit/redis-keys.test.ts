import { describe, expect, it } from 'vitest';
import { RedisKeys, segmentSlice } from '../../src/storage/redis-keys.js';

// The layout is what an operator reads in Redis and what `nps rebuild-live` clears: it may only
// change together with a migration of existing keys.
describe('the Redis key layout', () => {
  const keys = new RedisKeys('nps:');

  it('names live windows, first copies, fences and erasure state under the prefix', () => {
    expect(keys.bucket('shop.dk', null, 'm', 29_000_000)).toBe('nps:live:shop.dk:*:m:29000000');
    expect(keys.bucket('shop.dk', 'sms', 'd', 20_414)).toBe('nps:live:shop.dk:sms:d:20414');
    expect(keys.segmentValues('shop.dk', 'store/city')).toBe('nps:segvals:shop.dk:store%2Fcity');
    expect(segmentSlice('store/city', 'Århus C')).toBe(':store%2Fcity=%C3%85rhus%20C');
    expect(keys.seen('r-1')).toBe('nps:seen:r-1');
    expect(keys.fence('nps.responses.v1', 3)).toBe('nps:fence:nps.responses.v1:3');
    expect(keys.respondentIndex('p-1')).toBe('nps:resp:p-1');
    expect(keys.erased('tag')).toBe('nps:erased:tag');
    expect(keys.erasures).toBe('nps:erasures');
  });

  it('clears buckets, fences, first copies and respondent indexes on a rebuild, never segment sets', () => {
    expect(keys.rebuiltPatterns).toEqual(['nps:live:*', 'nps:fence:*', 'nps:seen:*', 'nps:resp:*']);
  });

  it('names shift detectors and invitation state under the prefix', () => {
    expect(keys.shiftState('shop.dk:sms')).toBe('nps:shift:shop.dk:sms');
    expect(keys.lastShift('shop.dk')).toBe('nps:shift-last:shop.dk');
    expect(keys.pendingShifts).toBe('nps:shifts:pending');
    expect(keys.invitation('inv-1')).toBe('nps:inv:inv-1');
    expect(keys.recontact('p-1')).toBe('nps:recontact:p-1');
    expect(keys.recontact(null)).toBe('nps:recontact:');
    expect(keys.opened('inv-1')).toBe('nps:opened:inv-1');
  });
});

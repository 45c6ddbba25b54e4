import { describe, expect, it } from 'vitest';
import { erasureTag } from '../../src/domain/erasure.js';

describe('erasureTag', () => {
  it('is stable for one key, differs between keys, and does not carry the id', () => {
    const tag = erasureTag('key-one-0123456789', 'crm-000042');
    expect(erasureTag('key-one-0123456789', 'crm-000042')).toBe(tag);
    expect(erasureTag('key-two-0123456789', 'crm-000042')).not.toBe(tag);
    expect(erasureTag('key-one-0123456789', 'crm-000043')).not.toBe(tag);
    expect(tag).toMatch(/^e_[A-Za-z0-9_-]{43}$/);
    expect(tag).not.toContain('000042');
  });
});

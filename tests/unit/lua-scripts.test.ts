import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { OTHER_SEGMENT } from '../../src/domain/segment.js';
import * as invitationMarks from '../../src/storage/invitation-marks.js';
import * as liveWindows from '../../src/storage/live-windows.js';
import { LUA_DIR, luaScript } from '../../src/storage/lua-script.js';
import * as shiftDetectors from '../../src/storage/shift-detectors.js';

// The values each script shares with TypeScript, as the TypeScript modules export them.
const shared: Record<string, Record<string, number | string>> = {
  'live-apply-batch': {
    FIRST_COPY: liveWindows.FIRST_COPY,
    REPEAT: liveWindows.REPEAT,
    ERASED: liveWindows.ERASED,
    FIRST_COPY_REPLAYED: liveWindows.FIRST_COPY_REPLAYED,
    OTHER_SEGMENT,
  },
  'invitation-reserve': {
    CREATED: invitationMarks.CREATED,
    EXISTING: invitationMarks.EXISTING,
    THROTTLED: invitationMarks.THROTTLED,
    CONFLICT: invitationMarks.CONFLICT,
  },
  'shifts-store-states': {
    SHIFTS_STORED: shiftDetectors.SHIFTS_STORED,
    SHIFTS_CONFLICT: shiftDetectors.SHIFTS_CONFLICT,
  },
};

const scripts = readdirSync(LUA_DIR)
  .filter((f) => f.endsWith('.lua'))
  .map((f) => f.replace(/\.lua$/, ''));

/** The upper-case `local` constants a script declares, parsed from its text. */
function declared(source: string): Record<string, number | string> {
  const out: Record<string, number | string> = {};
  for (const [, name = '', value = ''] of source.matchAll(/^local ([A-Z_]+) = (.+)$/gm)) {
    out[name] = /^'.*'$/.test(value) ? value.slice(1, -1) : Number(value);
  }
  return out;
}

describe('Redis scripts', () => {
  it('there are scripts, and every script has a header documenting KEYS, ARGV and the reply', () => {
    expect(scripts.length).toBeGreaterThanOrEqual(7);
    for (const name of scripts) {
      const header = readFileSync(`${LUA_DIR}/${name}.lua`, 'utf8').split('\n\n')[0] ?? '';
      expect(header, name).toMatch(/^-- KEYS\[1\]/m);
      expect(header, name).toMatch(/^-- (ARGV\[1\]|ARGV:)/m);
      expect(header, name).toMatch(/^-- Reply:/m);
    }
  });

  it('each script declares exactly the codes its TypeScript module owns, with the same values', () => {
    for (const name of scripts) {
      const source = readFileSync(`${LUA_DIR}/${name}.lua`, 'utf8');
      expect(declared(source), name).toEqual(shared[name] ?? {});
    }
  });

  it('no script writes a reply code as a bare number where its name is declared', () => {
    for (const [name, codes] of Object.entries(shared)) {
      const body = readFileSync(`${LUA_DIR}/${name}.lua`, 'utf8')
        .split('\n')
        .filter((line) => !line.startsWith('--') && !line.startsWith('local '));
      for (const line of body) {
        expect(line, name).not.toMatch(/out\[r\] = \d|return \{ \d|^return \d$/);
      }
      expect(Object.keys(codes).length).toBeGreaterThan(0);
    }
  });

  it('loading refuses a script whose declared code differs from the TypeScript value', () => {
    expect(() => luaScript('invitation-reserve', { CREATED: 9 })).toThrow(
      /invitation-reserve\.lua must declare "local CREATED = 9"/,
    );
    expect(() => luaScript('live-apply-batch', { OTHER_SEGMENT: 'rest' })).toThrow(
      /local OTHER_SEGMENT = 'rest'/,
    );
  });
});

import { describe, expect, it } from 'vitest';
import { themeImpact } from '../../src/domain/theme-impact.js';

/** A small seeded generator (mulberry32), so every run draws the same samples. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('the NPS cost of a theme', () => {
  it('is the overall NPS minus the NPS of everyone who did not mention it', () => {
    // 100 responses: 50 promoters, 20 passives, 30 detractors; 30 mention the theme (5/5/20).
    // Overall (50 - 30) % = 20; with it (5 - 20) / 30 = -50; without it (45 - 10) / 70 = 50.
    const result = themeImpact(
      { promoters: 50, passives: 20, detractors: 30 },
      { promoters: 5, passives: 5, detractors: 20 },
    );
    expect(result).toMatchObject({ npsWith: -50, npsWithout: 50, impact: -30 });
    expect(result.impactMarginOfError).toBeGreaterThan(0);
  });

  it('is zero for a theme nobody mentions and unknown for one everybody mentions', () => {
    const all = { promoters: 3, passives: 1, detractors: 2 };
    expect(themeImpact(all, { promoters: 0, passives: 0, detractors: 0 })).toMatchObject({
      npsWith: null,
      impact: 0,
    });
    expect(themeImpact(all, all)).toMatchObject({ npsWithout: null, impact: null });
    expect(themeImpact(all, all).impactMarginOfError).toBeNull();
  });

  it('has a 95 % margin that covers the true impact in about 95 % of samples', () => {
    // Cells: (mentions, promoter), (mentions, passive), (mentions, detractor), then without.
    const cells = [0.04, 0.04, 0.12, 0.41, 0.24, 0.15];
    const [wp, wa, wd, op, , od] = cells as [number, number, number, number, number, number];
    const w = wp + wa + wd;
    const trueImpact = 100 * (wp - wd + op - od - (op - od) / (1 - w));
    const next = random(20261123);
    const runs = 2000;
    const n = 600;
    let covered = 0;
    const impacts: number[] = [];
    const margins: number[] = [];
    for (let run = 0; run < runs; run++) {
      const counts = [0, 0, 0, 0, 0, 0];
      for (let i = 0; i < n; i++) {
        let u = next();
        let c = 0;
        while (c < 5 && u >= (cells[c] ?? 0)) u -= cells[c++] ?? 0;
        counts[c] = (counts[c] ?? 0) + 1;
      }
      const [cwp, cwa, cwd, cop, coa, cod] = counts as [
        number,
        number,
        number,
        number,
        number,
        number,
      ];
      const r = themeImpact(
        { promoters: cwp + cop, passives: cwa + coa, detractors: cwd + cod },
        { promoters: cwp, passives: cwa, detractors: cwd },
      );
      if (r.impact === null || r.impactMarginOfError === null) continue;
      impacts.push(r.impact);
      margins.push(r.impactMarginOfError);
      if (Math.abs(r.impact - trueImpact) <= r.impactMarginOfError) covered++;
    }
    const coverage = covered / runs;
    const mean = impacts.reduce((a, b) => a + b, 0) / impacts.length;
    const sd = Math.sqrt(impacts.reduce((a, b) => a + (b - mean) ** 2, 0) / (impacts.length - 1));
    const medianMargin = margins.sort((a, b) => a - b)[Math.floor(margins.length / 2)] ?? NaN;
    console.log(
      `impact coverage ${(100 * coverage).toFixed(1)} % over ${runs} samples of ${n}; ` +
        `true ${trueImpact.toFixed(2)}, mean ${mean.toFixed(2)}, 1.96 sd ${(1.96 * sd).toFixed(2)}, median margin ${medianMargin}`,
    );
    expect(coverage).toBeGreaterThan(0.935);
    expect(coverage).toBeLessThan(0.965);
    expect(medianMargin / (1.96 * sd)).toBeGreaterThan(0.95);
    expect(medianMargin / (1.96 * sd)).toBeLessThan(1.05);
  });
});

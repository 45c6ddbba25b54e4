/**
 * Colours for charts, from the Okabe-Ito palette, which stays apart under the common colour-vision
 * deficiencies: blue for promoters and the score, vermilion for detractors, grey for passives.
 * Never the only signal: every value is also written out. styles.css uses the same values.
 */
export const PALETTE = {
  promoter: '#0072B2',
  passive: '#8C8C8C',
  detractor: '#D55E00',
  band: 'rgba(0, 114, 178, 0.45)',
  bandFill: 'rgba(0, 114, 178, 0.15)',
  bars: '#6F6F6F',
  text: '#333333',
  grid: 'rgba(0, 0, 0, 0.08)',
} as const;

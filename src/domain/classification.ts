/** The NPS categories of a 0-10 answer: 0-6 detractor, 7-8 passive, 9-10 promoter. */
export type Category = 'detractor' | 'passive' | 'promoter';

export const MIN_SCORE = 0;
export const MAX_SCORE = 10;

export function isScore(value: unknown): value is number {
  return (
    Number.isInteger(value) && (value as number) >= MIN_SCORE && (value as number) <= MAX_SCORE
  );
}

export function classify(score: number): Category {
  if (!isScore(score)) throw new RangeError(`score must be an integer 0-10, got ${String(score)}`);
  if (score >= 9) return 'promoter';
  if (score >= 7) return 'passive';
  return 'detractor';
}

import { classify } from '../domain/classification.js';

/**
 * Which responses open a follow-up case (NPS_CASE_RULE). The default opens one per detractor.
 * Both the events (their `caseId`) and the cases store decide with this one function, so an event
 * never names a case that is not opened, nor the reverse.
 */
export interface CaseRule {
  /** Readable form, as configured. */
  readonly text: string;
  matches(response: CaseCandidate): boolean;
}

/** What a rule can look at: the score and the themes the processor tagged. */
export interface CaseCandidate {
  readonly score: number;
  readonly themes: readonly string[] | null;
}

export const DEFAULT_CASE_RULE: CaseRule = {
  text: 'detractor',
  matches: (response) => classify(response.score) === 'detractor',
};

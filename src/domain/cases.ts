import { classify } from './classification.js';
import type { Category } from './classification.js';
import type { Channel } from './response.js';
import { stableId } from './stable-id.js';

/**
 * Follow-up cases: what a response opened, folded with the changes people made to it, and the
 * numbers a team steers by. Pure: the stores and routes hand in rows and get states back.
 */

export const CASE_STATUSES = ['open', 'contacted', 'resolved'] as const;
export type CaseStatus = (typeof CASE_STATUSES)[number];

/** A case as the processor opened it: everything derived from its response. Times in epoch ms. */
export interface OpenedCase {
  readonly caseId: string;
  readonly responseId: string;
  readonly surveyId: string;
  readonly channel: Channel;
  readonly score: number;
  readonly comment: string | null;
  readonly themes: readonly string[];
  readonly respondentId: string | null;
  readonly respondedAt: number;
  readonly openedAt: number;
  readonly dueAt: number;
}

/** One change to a case, as kept (case_changes). */
export interface CaseChange {
  readonly changeId: string;
  readonly caseId: string;
  /** Name of the API key that made it. */
  readonly by: string;
  readonly at: number;
  readonly status: CaseStatus | null;
  /** The assignee set (null: unassigned), or undefined when the change leaves it. */
  readonly assignee?: string | null;
  readonly note: string | null;
}

/** The respondent's first answer to the same survey after the case's response, if any. */
export interface LaterAnswer {
  readonly score: number;
  readonly respondedAt: number;
}

export interface CaseState extends OpenedCase {
  readonly status: CaseStatus;
  readonly assignee: string | null;
  /** The first change to contacted or resolved: resolving is taken as a contact too. */
  readonly firstContactAt: number | null;
  /** When it was last resolved, while it is resolved. */
  readonly resolvedAt: number | null;
  readonly notes: readonly { at: number; by: string; note: string }[];
  /** Every change, oldest first. */
  readonly changes: readonly CaseChange[];
  readonly laterScore: number | null;
  /** Whether the later answer's category is better than the case's; null without one. */
  readonly recovered: boolean | null;
}

const RANK: Record<Category, number> = { detractor: 0, passive: 1, promoter: 2 };

/** Time order of changes; the change id breaks a tie, as the SQL fold does (argMax by (at, id)). */
export function byTime(a: CaseChange, b: CaseChange): number {
  return a.at - b.at || (a.changeId < b.changeId ? -1 : a.changeId > b.changeId ? 1 : 0);
}

export function foldCase(
  opened: OpenedCase,
  changes: readonly CaseChange[],
  later: LaterAnswer | null,
): CaseState {
  const ordered = [...changes].sort(byTime);
  let status: CaseStatus = 'open';
  let assignee: string | null = null;
  let firstContactAt: number | null = null;
  let resolvedAt: number | null = null;
  const notes: { at: number; by: string; note: string }[] = [];
  for (const change of ordered) {
    if (change.status !== null) {
      status = change.status;
      if (status !== 'open' && firstContactAt === null) firstContactAt = change.at;
      resolvedAt = status === 'resolved' ? change.at : null;
    }
    if (change.assignee !== undefined) assignee = change.assignee;
    if (change.note !== null) notes.push({ at: change.at, by: change.by, note: change.note });
  }
  return {
    ...opened,
    status,
    assignee,
    firstContactAt,
    resolvedAt,
    notes,
    changes: ordered,
    laterScore: later?.score ?? null,
    recovered: later ? RANK[classify(later.score)] > RANK[classify(opened.score)] : null,
  };
}

/**
 * Why a case may not go from `from` to `to`, or null when it may. Forward steps and reopening a
 * resolved case are allowed; a contacted case cannot become uncontacted (its first contact
 * happened, and the SLA numbers keep it).
 */
export function refusedTransition(from: CaseStatus, to: CaseStatus): string | null {
  if (from === 'contacted' && to === 'open')
    return 'a contacted case cannot go back to open; resolve it, or reopen it once resolved';
  return null;
}

/** Overdue: no first contact yet and past its due time. */
export function isOverdue(state: CaseState, now: number): boolean {
  return state.firstContactAt === null && now > state.dueAt;
}

/**
 * The median of `values` with its 95 % distribution-free interval: the order statistics at ranks
 * n/2 -+ 1.96 sqrt(n)/2 (a binomial interval for the median, no assumption on the shape).
 */
export function medianWithInterval(values: readonly number[]): {
  n: number;
  median: number | null;
  ci95: readonly [number, number] | null;
} {
  const sorted = [...values].sort((a, b) => a - b);
  const n = sorted.length;
  if (n === 0) return { n, median: null, ci95: null };
  const mid = Math.floor(n / 2);
  const median =
    n % 2 === 1
      ? (sorted[mid] as number)
      : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
  const half = (1.96 * Math.sqrt(n)) / 2;
  const lo = Math.max(1, Math.floor(n / 2 - half));
  const hi = Math.min(n, Math.ceil(n / 2 + half + 1));
  return { n, median, ci95: [sorted[lo - 1] as number, sorted[hi - 1] as number] };
}

/** A proportion in percent (one decimal) with its 95 % normal margin in points; null when n = 0. */
export function percentWithMargin(
  k: number,
  n: number,
): { rate: number | null; marginOfError: number | null } {
  if (n === 0) return { rate: null, marginOfError: null };
  const p = k / n;
  return {
    rate: Math.round(1000 * p) / 10,
    marginOfError: Math.round(1000 * 1.96 * Math.sqrt((p * (1 - p)) / n)) / 10,
  };
}

export interface CaseSummary {
  readonly cases: number;
  readonly statuses: Readonly<Record<CaseStatus, number>>;
  readonly overdue: number;
  readonly timeToFirstContact: {
    readonly n: number;
    readonly medianSeconds: number | null;
    readonly ci95Seconds: readonly [number, number] | null;
  };
  readonly recovery: {
    /** Cases whose respondent answered the survey again later: the rate's sample size. */
    readonly n: number;
    readonly recovered: number;
    readonly rate: number | null;
    readonly marginOfError: number | null;
  };
}

export function summarizeCases(states: readonly CaseState[], now: number): CaseSummary {
  const statuses: Record<CaseStatus, number> = { open: 0, contacted: 0, resolved: 0 };
  for (const s of states) statuses[s.status] += 1;
  const waits = states
    .filter((s) => s.firstContactAt !== null)
    .map((s) => ((s.firstContactAt as number) - s.openedAt) / 1000);
  const median = medianWithInterval(waits);
  const answered = states.filter((s) => s.recovered !== null);
  const recovered = answered.filter((s) => s.recovered === true).length;
  return {
    cases: states.length,
    statuses,
    overdue: states.filter((s) => isOverdue(s, now)).length,
    timeToFirstContact: {
      n: median.n,
      medianSeconds: median.median,
      ci95Seconds: median.ci95,
    },
    recovery: { n: answered.length, recovered, ...percentWithMargin(recovered, answered.length) },
  };
}

/** The id of the case a response opens: the same response always opens the same case. */
export function caseIdFor(surveyId: string, responseId: string): string {
  return `case_${stableId('case', surveyId, responseId)}`;
}

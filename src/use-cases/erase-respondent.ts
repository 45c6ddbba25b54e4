import { erasureTag } from '../domain/erasure.js';
import { respondentIdFrom } from '../domain/pseudonym.js';
import type { History } from '../storage/history.js';
import type { LiveWindows } from '../storage/live-windows.js';

/** One store's part of an erasure beyond the live windows and history. */
export interface Eraser {
  /** Names the count in the erasure answer, e.g. "casesDeleted". */
  readonly name: string;
  /** Removes what the store holds of `respondentId` from before `cut` (epoch ms); how many. */
  erase(respondentId: string, cut: number): Promise<number>;
}

export interface ErasureDeps {
  readonly live: LiveWindows;
  readonly history: History;
  /**
   * Further stores that hold a respondent's data (invitations, cases, queued events, ...),
   * called after the live windows and history, in order. An erasure repeated after a failure
   * calls them again, so each must be idempotent.
   */
  readonly erasers: readonly Eraser[];
  /** Key of the HMAC that ingest stores emails and phone numbers as. */
  readonly pseudonymKey: string | undefined;
  readonly log?: (message: string) => void;
}

export type ErasureResult =
  | {
      readonly ok: true;
      /** As stored: an email or phone number as its keyed HMAC. */
      readonly respondentId: string;
      /** Everything received up to here (epoch ms) is gone. */
      readonly cut: number;
      readonly historyResponsesDeleted: number;
      readonly liveResponsesRemoved: number;
      /** The further stores' counts, by their names. */
      readonly further: Readonly<Record<string, number>>;
    }
  /** An email or phone number given without NPS_PSEUDONYM_KEY: none is ever stored. */
  | { readonly ok: false; readonly reason: 'no-pseudonym-key' };

/**
 * Erases a respondent everywhere, as of `at`: the live windows (which fix the cut: nothing of
 * theirs received up to it counts or is stored again), history, then the further stores. The
 * erasure is recorded in history first, so that one that fails half-way can be repeated and a
 * rebuild of the live windows restores it.
 */
export async function eraseRespondent(
  deps: ErasureDeps,
  given: string,
  at: number,
): Promise<ErasureResult> {
  // Stored as ingest stores it: an email or phone number only as its keyed HMAC.
  const respondentId = respondentIdFrom(deps.pseudonymKey, given);
  if (respondentId === null) return { ok: false, reason: 'no-pseudonym-key' };
  const tag = erasureTag(deps.pseudonymKey, respondentId);
  await deps.history.recordErasure(tag, at);
  const { cut, removed } = await deps.live.erase(respondentId, at);
  if (cut > at) await deps.history.recordErasure(tag, cut);
  const deleted = await deps.history.purge(respondentId, cut);
  const further: Record<string, number> = {};
  for (const eraser of deps.erasers) further[eraser.name] = await eraser.erase(respondentId, cut);
  deps.log?.(`erasure: ${deleted} stored and ${removed} live response(s) removed`);
  return {
    ok: true,
    respondentId,
    cut,
    historyResponsesDeleted: deleted,
    liveResponsesRemoved: removed,
    further,
  };
}

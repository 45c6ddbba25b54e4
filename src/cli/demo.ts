import { setTimeout as sleep } from 'node:timers/promises';

/**
 * `nps demo`: synthetic responses through the public HTTP API, as a real integration would send
 * them, so a fresh install shows moving numbers. Scores lean positive with a tail of detractors;
 * comments are Danish, Swedish and English.
 */

const COMMENTS = {
  promoter: [
    'Hurtig levering, tak!',
    'Snabb och vänlig service',
    'Great support, solved in minutes',
  ],
  passive: ['Fint nok, men dyrt', 'Okej, men appen är långsam', 'Fine, nothing special'],
  detractor: ['Pakken kom en uge for sent', 'Kundtjänst svarade aldrig', 'Billing was wrong twice'],
} as const;
const CHANNELS = ['web', 'sms', 'email'] as const;

function pick<T>(items: readonly T[], random: () => number): T {
  return items[Math.floor(random() * items.length)] as T;
}

export function demoResponse(surveyId: string, random: () => number = Math.random) {
  const roll = random();
  const score =
    roll < 0.5
      ? 9 + Math.floor(random() * 2)
      : roll < 0.75
        ? 7 + Math.floor(random() * 2)
        : Math.floor(random() * 7);
  const category = score >= 9 ? 'promoter' : score >= 7 ? 'passive' : 'detractor';
  return {
    surveyId,
    score,
    channel: pick(CHANNELS, random),
    ...(random() < 0.4 && { comment: pick(COMMENTS[category], random) }),
    segment: { region: pick(['dk', 'se', 'no', 'uk'], random) },
  };
}

export interface DemoOptions {
  readonly baseUrl: string;
  readonly apiKey: string;
  readonly rate: number;
  readonly surveyId: string;
  /** Stop after this many seconds; run until stopped when undefined. */
  readonly durationSeconds: number | undefined;
  readonly log: (message: string) => void;
  readonly stopped: () => boolean;
}

/** Sends `rate` responses a second in one batch per second; returns how many were accepted. */
export async function runDemo(options: DemoOptions): Promise<number> {
  let accepted = 0;
  const began = Date.now();
  for (let second = 0; !options.stopped(); second++) {
    if (options.durationSeconds !== undefined && second >= options.durationSeconds) break;
    const batch = Array.from({ length: options.rate }, () => demoResponse(options.surveyId));
    const res = await fetch(`${options.baseUrl}/v1/responses`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${options.apiKey}` },
      body: JSON.stringify(batch),
    });
    if (res.status === 202) accepted += batch.length;
    else options.log(`batch refused: ${res.status} ${await res.text()}`);
    if (second % 10 === 9) options.log(`${accepted} responses accepted`);
    const next = began + (second + 1) * 1000;
    await sleep(Math.max(0, next - Date.now()));
  }
  return accepted;
}

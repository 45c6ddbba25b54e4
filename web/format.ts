import type { Language } from './i18n.js';

/** Locale of each page language, for numbers and dates. */
const LOCALES: Readonly<Record<Language, string>> = { da: 'da-DK', sv: 'sv-SE', en: 'en-GB' };

/**
 * Numbers and dates in the page's language. Scores keep at most one decimal, as the API gives them
 * (-34.2, 12, 100); thousands are grouped from five digits on (1234, 12 345), as Danish and Swedish
 * typography and most English style guides do.
 */
export function formatters(language: Language) {
  const locale = LOCALES[language];
  const score = new Intl.NumberFormat(locale, {
    maximumFractionDigits: 1,
    useGrouping: 'min2',
  });
  const count = new Intl.NumberFormat(locale, { useGrouping: 'min2' });
  const percent = new Intl.NumberFormat(locale, { style: 'percent', maximumFractionDigits: 0 });
  const time = new Intl.DateTimeFormat(locale, { timeStyle: 'medium' });
  const dateTime = new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeStyle: 'short' });
  const date = new Intl.DateTimeFormat(locale, { dateStyle: 'medium' });
  const month = new Intl.DateTimeFormat(locale, { year: 'numeric', month: 'short' });
  const dayShort = new Intl.DateTimeFormat(locale, { day: 'numeric', month: 'short' });
  const monthShort = new Intl.DateTimeFormat(locale, { year: '2-digit', month: 'short' });
  const dash = '–';
  return {
    locale,
    /** An NPS, margin or difference; a dash for none. */
    score: (n: number | null | undefined) =>
      n === null || n === undefined ? dash : score.format(n),
    count: (n: number) => count.format(n),
    percent: (part: number, whole: number) => (whole > 0 ? percent.format(part / whole) : dash),
    time: (ms: number) => time.format(ms),
    dateTime: (ms: number) => dateTime.format(ms),
    date: (ms: number) => date.format(ms),
    /** The start of a trend period, as precise as the period. */
    period: (ms: number, interval: string) =>
      interval === 'month' ? month.format(ms) : date.format(ms),
    /** A chart axis tick: short. */
    tick: (ms: number, interval: string) =>
      interval === 'month' ? monthShort.format(ms) : dayShort.format(ms),
  };
}

export type Formatters = ReturnType<typeof formatters>;

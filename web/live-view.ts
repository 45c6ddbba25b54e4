import type { Live, Summary } from './api.js';
import { byId, el, fillTable, show } from './dom.js';
import type { Formatters } from './format.js';
import type { Language, MessageKey } from './i18n.js';
import { t } from './i18n.js';

/** Below this many responses a window is flagged when the server does not say (NPS_MIN_RESPONSES). */
const DEFAULT_MIN_RESPONSES = 30;

const CATEGORIES = [
  ['promoters', 'promoter'],
  ['passives', 'passive'],
  ['detractors', 'detractor'],
] as const satisfies readonly (readonly [MessageKey & keyof Summary, string])[];

export function isLowSample(s: Summary): boolean {
  return s.responses > 0 && (s.lowSample ?? s.responses < DEFAULT_MIN_RESPONSES);
}

/** The live tiles of the current view: NPS with margin and sample, and the three categories. */
export function renderLive(live: Live, language: Language, fmt: Formatters): void {
  const nps = byId('live-nps', HTMLElement);
  nps.textContent = fmt.score(live.nps);
  nps.dataset.value = live.nps === null ? '' : String(live.nps);
  const moe = byId('live-moe', HTMLElement);
  moe.textContent = fmt.score(live.marginOfError);
  moe.dataset.value = live.marginOfError === null ? '' : String(live.marginOfError);
  const responses = byId('live-responses', HTMLElement);
  responses.textContent = fmt.count(live.responses);
  responses.dataset.value = String(live.responses);

  const bar = el('div', { class: 'stack', 'aria-hidden': 'true' });
  const rows = CATEGORIES.map(([key, cls]) => {
    const count = live[key];
    const part = el('span', { class: `stack-${cls}` });
    part.style.width = `${live.responses > 0 ? (100 * count) / live.responses : 0}%`;
    bar.append(part);
    return el(
      'div',
      { class: `category ${cls}`, 'data-testid': `live-${key}` },
      el('span', { class: 'swatch', 'aria-hidden': 'true' }),
      el('span', { class: 'category-name' }, t(language, key)),
      el('span', { class: 'category-count' }, fmt.count(count)),
      el('span', { class: 'category-share' }, fmt.percent(count, live.responses)),
    );
  });
  byId('categories', HTMLElement).replaceChildren(bar, ...rows);

  const warning = byId('low-sample', HTMLElement);
  const low = isLowSample(live);
  warning.textContent =
    live.responses === 0
      ? t(language, 'noResponses')
      : low
        ? t(language, 'lowSample', { n: fmt.count(live.responses) })
        : '';
  show(warning, live.responses === 0 || low);
}

/** One row per channel: NPS ± margin, responses and the category shares. */
export function renderByChannel(
  rows: readonly { channel: string; live: Summary }[],
  language: Language,
  fmt: Formatters,
): void {
  fillTable(
    byId('by-channel', HTMLTableElement),
    [
      t(language, 'channel'),
      t(language, 'nps'),
      t(language, 'responses'),
      t(language, 'promoters'),
      t(language, 'passives'),
      t(language, 'detractors'),
    ],
    rows.map(({ channel, live }) => [
      t(language, `ch_${channel}` as MessageKey),
      `${fmt.score(live.nps)} ± ${fmt.score(live.marginOfError)}`,
      fmt.count(live.responses),
      fmt.percent(live.promoters, live.responses),
      fmt.percent(live.passives, live.responses),
      fmt.percent(live.detractors, live.responses),
    ]),
  );
}

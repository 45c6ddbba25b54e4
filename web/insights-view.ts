import type { Comparison, FeedItem, Term, Theme } from './api.js';
import { byId, el, fillTable, show } from './dom.js';
import type { Formatters } from './format.js';
import type { Language, MessageKey } from './i18n.js';
import { t } from './i18n.js';

function signed(n: number | null, fmt: Formatters): string {
  return n !== null && n > 0 ? `+${fmt.score(n)}` : fmt.score(n);
}

/** Why: each theme's cost in NPS points, with its margin, and a recent comment that mentions it. */
export function renderThemes(themes: readonly Theme[], language: Language, fmt: Formatters): void {
  const table = byId('themes', HTMLTableElement);
  show(byId('themes-empty', HTMLElement), themes.length === 0);
  show(table, themes.length > 0);
  fillTable(
    table,
    [
      t(language, 'theme'),
      t(language, 'impact'),
      t(language, 'mentions'),
      t(language, 'npsWith'),
      t(language, 'npsWithout'),
      t(language, 'example'),
    ],
    themes.map((theme) => {
      const example = theme.examples[0];
      const direction =
        theme.impact === null || theme.impact === 0 ? '' : theme.impact < 0 ? '▼ ' : '▲ ';
      return [
        theme.label,
        el(
          'span',
          { class: theme.impact !== null && theme.impact < 0 ? 'down' : 'up' },
          `${direction}${signed(theme.impact, fmt)} ± ${fmt.score(theme.impactMarginOfError)}`,
        ),
        fmt.count(theme.mentions),
        fmt.score(theme.npsWith),
        fmt.score(theme.npsWithout),
        example
          ? el(
              'q',
              { class: 'comment', ...(example.language !== null && { lang: example.language }) },
              example.comment,
            )
          : '',
      ];
    }),
  );
}

/** Words and phrases new in detractor comments, against the period before. */
export function renderTerms(terms: readonly Term[], language: Language, fmt: Formatters): void {
  const list = byId('terms', HTMLUListElement);
  list.replaceChildren(
    ...(terms.length === 0
      ? [el('li', { class: 'muted' }, t(language, 'noTerms'))]
      : terms.map((term) =>
          el(
            'li',
            {},
            el('strong', {}, term.term),
            ' ',
            el(
              'span',
              { class: 'muted' },
              t(language, 'termCounts', {
                now: fmt.count(term.target),
                before: fmt.count(term.reference),
              }),
            ),
          ),
        )),
  );
}

/** Who to call: the latest detractors, their score, channel, time, comment and themes. */
export function renderFeed(
  items: readonly FeedItem[],
  labels: ReadonlyMap<string, string>,
  language: Language,
  fmt: Formatters,
): void {
  show(byId('feed-empty', HTMLElement), items.length === 0);
  byId('feed', HTMLOListElement).replaceChildren(
    ...items.map((item) =>
      el(
        'li',
        { class: 'feed-item' },
        el('span', { class: 'score-badge' }, t(language, 'score', { score: String(item.score) })),
        el(
          'span',
          { class: 'muted' },
          `${t(language, `ch_${item.channel}` as MessageKey)} · `,
          el('time', { datetime: item.respondedAt }, fmt.dateTime(Date.parse(item.respondedAt))),
        ),
        item.comment
          ? el(
              'q',
              { class: 'comment', ...(item.language !== null && { lang: item.language }) },
              item.comment,
            )
          : el('span', { class: 'muted' }, t(language, 'noComment')),
        (item.themes ?? []).length > 0 &&
          el(
            'span',
            { class: 'tags' },
            ...(item.themes ?? []).map((id) => el('span', { class: 'tag' }, labels.get(id) ?? id)),
          ),
      ),
    ),
  );
}

/** Did it help: this period against the one before, and the verdict in words. */
export function renderCompare(c: Comparison, language: Language, fmt: Formatters): void {
  const values = {
    d: fmt.score(c.difference === null ? null : Math.abs(c.difference)),
    m: fmt.score(c.differenceMarginOfError),
    a: fmt.count(c.a.responses),
    b: fmt.count(c.b.responses),
  };
  const key: MessageKey =
    c.difference === null
      ? 'verdictEmpty'
      : c.a.lowSample === true || c.b.lowSample === true
        ? 'verdictLow'
        : !c.significant
          ? 'verdictNone'
          : c.difference < 0
            ? 'verdictDrop'
            : 'verdictRise';
  const verdict = byId('verdict', HTMLElement);
  verdict.textContent = t(language, key, values);
  verdict.className = `verdict ${key === 'verdictDrop' ? 'down' : key === 'verdictRise' ? 'up' : ''}`;
  const range = (side: { from: string; to: string }) =>
    `${fmt.dateTime(Date.parse(side.from))} – ${fmt.dateTime(Date.parse(side.to))}`;
  fillTable(
    byId('compare', HTMLTableElement),
    [t(language, 'period'), t(language, 'nps'), t(language, 'responses')],
    [
      [
        `${t(language, 'periodBefore')}: ${range(c.a)}`,
        `${fmt.score(c.a.nps)} ± ${fmt.score(c.a.marginOfError)}`,
        fmt.count(c.a.responses),
      ],
      [
        `${t(language, 'thisPeriod')}: ${range(c.b)}`,
        `${fmt.score(c.b.nps)} ± ${fmt.score(c.b.marginOfError)}`,
        fmt.count(c.b.responses),
      ],
    ],
  );
}

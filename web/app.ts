import './styles.css';
import { CHANNELS } from '../src/domain/response.js';
import { WINDOWS, isWindowName } from '../src/domain/windows.js';
import type { WindowName } from '../src/domain/windows.js';
import { ApiError, SignedOut, getJson, session, signIn, signOut } from './api.js';
import type {
  Annotation,
  Comparison,
  FeedItem,
  HistoryBucket,
  Live,
  Session,
  Summary,
  Term,
  Theme,
} from './api.js';
import { byId, el, show } from './dom.js';
import { formatters } from './format.js';
import type { Formatters } from './format.js';
import { browserLanguage, isLanguage, t } from './i18n.js';
import type { Language, MessageKey } from './i18n.js';
import { renderCompare, renderFeed, renderTerms, renderThemes } from './insights-view.js';
import { renderByChannel, renderLive } from './live-view.js';
import { TREND_SPAN_DAYS, renderTrend } from './trend-view.js';
import type { Interval } from './trend-view.js';

/**
 * The dashboard: sign-in, the view in the URL (`/?surveyId=…&window=24h&channel=sms&interval=week`)
 * so it can be shared, live tiles fed by the SSE stream, and the slower panels (trend, themes,
 * terms, compare, feed) refreshed on a view change and then at most every 15 s while it moves.
 */

interface View {
  surveyId: string;
  window: WindowName;
  channel: string;
  interval: Interval;
  /** A segment slice (`segment.<key>=<value>` in the URL); '' for none. */
  segmentKey: string;
  segmentValue: string;
}

const SECONDARY_EVERY_MS = 15_000;
const LANGUAGE_KEY = 'nps.language';
const INTERVALS = Object.keys(TREND_SPAN_DAYS) as Interval[];

let view: View = readView();
let language: Language = initialLanguage();
let fmt: Formatters = formatters(language);
let stream: EventSource | undefined;
let reopen: ReturnType<typeof setTimeout> | undefined;
/** Bumped on every view change and sign-out, so late answers for an old view are dropped. */
let generation = 0;
let lastLive: Live | undefined;
let secondaryAt = 0;
/** The segment keys the server slices by (NPS_SEGMENT_KEYS), from the session. */
let segmentKeys: readonly string[] = [];

function readView(): View {
  const q = new URLSearchParams(location.search);
  const window = q.get('window') ?? '24h';
  const channel = q.get('channel') ?? '';
  const interval = q.get('interval') ?? 'day';
  const [segmentKey = '', segmentValue = ''] =
    [...q.entries()]
      .find(([name]) => name.startsWith('segment.'))
      ?.map((part, i) => (i === 0 ? part.slice('segment.'.length) : part)) ?? [];
  return {
    surveyId: q.get('surveyId') ?? '',
    window: isWindowName(window) ? window : '24h',
    channel: (CHANNELS as readonly string[]).includes(channel) ? channel : '',
    interval: (INTERVALS as readonly string[]).includes(interval) ? (interval as Interval) : 'day',
    segmentKey,
    segmentValue,
  };
}

/** The view's segment filter as query parameters; none unless the server slices by its key. */
function segmentFilter(): Record<string, string> {
  return view.segmentKey !== '' && view.segmentValue !== '' && segmentKeys.includes(view.segmentKey)
    ? { [`segment.${view.segmentKey}`]: view.segmentValue }
    : {};
}

function writeView(): void {
  const q = new URLSearchParams();
  if (view.surveyId !== '') q.set('surveyId', view.surveyId);
  q.set('window', view.window);
  if (view.channel !== '') q.set('channel', view.channel);
  if (view.interval !== 'day') q.set('interval', view.interval);
  if (view.segmentKey !== '' && view.segmentValue !== '')
    q.set(`segment.${view.segmentKey}`, view.segmentValue);
  history.replaceState(null, '', `/?${q.toString()}`);
}

function initialLanguage(): Language {
  const kept = localStorage.getItem(LANGUAGE_KEY);
  return isLanguage(kept) ? kept : browserLanguage(navigator.languages);
}

function options(select: HTMLSelectElement, items: readonly [string, string][], value: string) {
  select.replaceChildren(...items.map(([v, label]) => el('option', { value: v }, label)));
  select.value = value;
}

function applyLanguage(): void {
  document.documentElement.lang = language;
  document.title = t(language, 'title');
  for (const node of document.querySelectorAll<HTMLElement>('[data-i18n]')) {
    node.textContent = t(language, node.dataset.i18n as MessageKey);
  }
  for (const node of document.querySelectorAll<HTMLElement>('[data-i18n-label]')) {
    node.setAttribute('aria-label', t(language, node.dataset.i18nLabel as MessageKey));
  }
  byId('lang', HTMLSelectElement).value = language;
  options(
    byId('window', HTMLSelectElement),
    Object.keys(WINDOWS).map((w) => [w, t(language, `w${w}` as MessageKey)]),
    view.window,
  );
  options(
    byId('channel', HTMLSelectElement),
    [
      ['', t(language, 'allChannels')],
      ...CHANNELS.map((c): [string, string] => [c, t(language, `ch_${c}`)]),
    ],
    view.channel,
  );
  options(
    byId('interval', HTMLSelectElement),
    INTERVALS.map((i) => [i, t(language, i)]),
    view.interval,
  );
  options(
    byId('segment-key', HTMLSelectElement),
    [['', t(language, 'allSegments')], ...segmentKeys.map((k): [string, string] => [k, k])],
    segmentKeys.includes(view.segmentKey) ? view.segmentKey : '',
  );
}

/** Shows the segment selector when the server slices by segment keys. */
function showSegments(keys: readonly string[] | undefined): void {
  segmentKeys = keys ?? [];
  applyLanguage();
  byId('segment-value', HTMLInputElement).value = view.segmentValue;
  const on = segmentKeys.length > 0;
  show(byId('segment-field', HTMLElement), on);
  show(byId('segment-value-field', HTMLElement), on && segmentKeys.includes(view.segmentKey));
  show(byId('segment-scope', HTMLElement), Object.keys(segmentFilter()).length > 0);
}

/** Says so when live counts the value asked for under `other` (past the tracked values). */
function showSegmentOther(live: Live): void {
  const shown = live.segment?.[view.segmentKey];
  const other = byId('segment-other', HTMLElement);
  const past = shown !== undefined && shown !== view.segmentValue;
  other.textContent = past
    ? t(language, 'segmentOther', { key: view.segmentKey, value: view.segmentValue })
    : '';
  show(other, past);
}

function showSignIn(message = ''): void {
  generation++;
  closeStream();
  show(byId('loading', HTMLElement), false);
  show(byId('dashboard', HTMLElement), false);
  show(byId('sign-out', HTMLElement), false);
  show(byId('sign-in', HTMLElement), true);
  byId('sign-in-error', HTMLElement).textContent = message;
}

function closeStream(): void {
  clearTimeout(reopen);
  stream?.close();
  stream = undefined;
}

/** What a failed part shows; a 401 anywhere means the session is over. */
function failed(error: unknown, where: HTMLElement | null): void {
  if (error instanceof SignedOut) {
    showSignIn(t(language, 'signedOut'));
    return;
  }
  const reason = error instanceof Error ? error.message : String(error);
  if (where)
    where.replaceChildren(el('p', { class: 'error' }, t(language, 'loadFailed', { reason })));
}

function params(extra: Readonly<Record<string, string>> = {}) {
  return { surveyId: view.surveyId, channel: view.channel, ...extra };
}

/** Parameters of the reads that take a segment filter (live, history, compare). */
function sliced(extra: Readonly<Record<string, string>> = {}) {
  return params({ ...extra, ...segmentFilter() });
}

async function loadSurveys(): Promise<boolean> {
  const { surveys } = await getJson<{ surveys: { surveyId: string }[] }>(
    '/v1/surveys',
    {},
    language,
  );
  const ids = surveys.map((s) => s.surveyId);
  if (view.surveyId === '' && ids[0] !== undefined) view.surveyId = ids[0];
  if (view.surveyId !== '' && !ids.includes(view.surveyId)) ids.unshift(view.surveyId);
  options(
    byId('survey', HTMLSelectElement),
    ids.map((id) => [id, id]),
    view.surveyId,
  );
  show(byId('no-surveys', HTMLElement), surveys.length === 0);
  return view.surveyId !== '';
}

function onLive(live: Live, mine: number): void {
  if (mine !== generation) return;
  lastLive = live;
  renderLive(live, language, fmt);
  showSegmentOther(live);
  byId('live-status', HTMLElement).textContent = t(language, 'updated', {
    time: fmt.time(Date.now()),
  });
  void refreshChannels(mine);
  if (Date.now() - secondaryAt >= SECONDARY_EVERY_MS) void refreshSecondary(mine);
}

function openStream(): void {
  closeStream();
  const mine = generation;
  const q = new URLSearchParams({ surveyId: view.surveyId, window: view.window });
  if (view.channel !== '') q.set('channel', view.channel);
  for (const [name, value] of Object.entries(segmentFilter())) q.set(name, value);
  const source = new EventSource(`/v1/nps/stream?${q.toString()}`);
  stream = source;
  source.addEventListener('nps', (event) => {
    onLive(JSON.parse((event as MessageEvent<string>).data) as Live, mine);
  });
  source.addEventListener('error', () => {
    if (mine !== generation) return;
    byId('live-status', HTMLElement).textContent = t(language, 'reconnecting');
    // EventSource retries by itself after a dropped connection, but gives up on an error status:
    // then either the session is over, or we try again in a while.
    if (source.readyState !== EventSource.CLOSED) return;
    void session().then(
      (s) => {
        if (mine !== generation) return;
        if (!s.signedIn) showSignIn(t(language, 'signedOut'));
        else reopen = setTimeout(openStream, 3000);
      },
      () => {
        if (mine === generation) reopen = setTimeout(openStream, 3000);
      },
    );
  });
}

async function refreshChannels(mine: number): Promise<void> {
  try {
    const rows = await Promise.all(
      CHANNELS.map(async (channel) => ({
        channel,
        live: await getJson<Summary>(
          '/v1/nps/live',
          sliced({ window: view.window, channel }),
          language,
        ),
      })),
    );
    if (mine === generation) renderByChannel(rows, language, fmt);
  } catch (error) {
    if (mine === generation) failed(error, null);
  }
}

async function part(mine: number, where: string, load: () => Promise<void>): Promise<void> {
  try {
    await load();
  } catch (error) {
    if (mine === generation) failed(error, byId(where, HTMLElement));
  }
}

async function refreshSecondary(mine: number): Promise<void> {
  secondaryAt = Date.now();
  const now = Date.now();
  const span = WINDOWS[view.window] * 60_000;
  const iso = (ms: number) => new Date(ms).toISOString();
  const labels = new Map<string, string>();
  const themes = part(mine, 'themes', async () => {
    const body = await getJson<{ themes: Theme[] }>(
      '/v1/nps/themes',
      params({ from: iso(now - span), to: iso(now) }),
      language,
    );
    for (const theme of body.themes) labels.set(theme.theme, theme.label);
    if (mine === generation) renderThemes(body.themes, language, fmt);
  });
  await Promise.all([
    themes,
    part(mine, 'trend-table', async () => {
      const interval = view.interval;
      const body = await getJson<{
        series: (HistoryBucket & { channel?: string })[];
        annotations?: Annotation[];
      }>(
        '/v1/nps/history',
        {
          surveyId: view.surveyId,
          from: iso(now - TREND_SPAN_DAYS[interval] * 86_400_000),
          to: iso(now),
          interval,
          // History has no channel filter: one channel is read from the per-channel series.
          groupBy: view.channel === '' ? null : 'channel',
          ...segmentFilter(),
        },
        language,
      );
      const series = body.series.filter((b) => view.channel === '' || b.channel === view.channel);
      if (mine === generation) renderTrend(series, body.annotations ?? [], interval, language, fmt);
    }),
    part(mine, 'terms', async () => {
      const body = await getJson<{ terms: Term[] }>(
        '/v1/nps/terms',
        params({
          from: iso(now - span),
          to: iso(now),
          category: 'detractor',
          compareTo: 'previous',
        }),
        language,
      );
      if (mine === generation) renderTerms(body.terms.slice(0, 10), language, fmt);
    }),
    part(mine, 'compare', async () => {
      const body = await getJson<Comparison>(
        '/v1/nps/compare',
        sliced({
          aFrom: iso(now - 2 * span),
          aTo: iso(now - span),
          bFrom: iso(now - span),
          bTo: iso(now),
        }),
        language,
      );
      if (mine === generation) renderCompare(body, language, fmt);
    }),
    part(mine, 'feed', async () => {
      const body = await getJson<{ responses: FeedItem[] }>(
        '/v1/nps/feed',
        params({ category: 'detractor', limit: '50' }),
        language,
      );
      // Theme labels in the page's language come with the themes answer.
      await themes;
      if (mine === generation) renderFeed(body.responses, labels, language, fmt);
    }),
  ]);
}

/** Applies the current view: URL, stream, every panel. */
function refreshView(): void {
  generation++;
  writeView();
  if (view.surveyId === '') return;
  openStream();
  void refreshSecondary(generation);
}

async function showDashboard(signedIn: Session): Promise<void> {
  showSegments(signedIn.segmentKeys);
  show(byId('loading', HTMLElement), false);
  show(byId('sign-in', HTMLElement), false);
  show(byId('dashboard', HTMLElement), true);
  show(byId('sign-out', HTMLElement), true);
  try {
    await loadSurveys();
  } catch (error) {
    failed(error, byId('no-surveys', HTMLElement));
    if (error instanceof SignedOut) return;
    show(byId('no-surveys', HTMLElement), true);
  }
  refreshView();
}

function signInMessage(error: unknown): string {
  const reason =
    error instanceof ApiError && error.status === 401
      ? t(language, 'unknownKey')
      : error instanceof ApiError && error.status === 403 && /read scope/.test(error.message)
        ? t(language, 'noReadScope')
        : error instanceof Error
          ? error.message
          : String(error);
  return t(language, 'signInFailed', { reason });
}

async function signInWith(key: string): Promise<void> {
  let signedIn: Session;
  try {
    signedIn = await signIn(key);
  } catch (error) {
    showSignIn(signInMessage(error));
    return;
  }
  await showDashboard(signedIn);
}

function wire(): void {
  byId('sign-in-form', HTMLFormElement).addEventListener('submit', (event) => {
    event.preventDefault();
    const input = byId('apiKey', HTMLInputElement);
    const key = input.value.trim();
    // The key is sent once and not kept: the session cookie (HttpOnly) carries the sign-in.
    input.value = '';
    void signInWith(key);
  });
  byId('sign-out', HTMLButtonElement).addEventListener('click', () => {
    closeStream();
    void signOut().then(
      () => {
        showSignIn(t(language, 'signedOut'));
        byId('apiKey', HTMLInputElement).focus();
      },
      (error: unknown) => {
        failed(error, byId('sign-in-error', HTMLElement));
      },
    );
  });
  byId('lang', HTMLSelectElement).addEventListener('change', (event) => {
    const chosen = (event.target as HTMLSelectElement).value;
    if (!isLanguage(chosen)) return;
    language = chosen;
    fmt = formatters(language);
    localStorage.setItem(LANGUAGE_KEY, language);
    applyLanguage();
    if (lastLive) renderLive(lastLive, language, fmt);
    if (!byId('dashboard', HTMLElement).hidden && view.surveyId !== '') {
      void refreshChannels(generation);
      void refreshSecondary(generation);
    }
  });
  const onFilter = () => {
    view = {
      surveyId: byId('survey', HTMLSelectElement).value,
      window: isWindowName(byId('window', HTMLSelectElement).value)
        ? (byId('window', HTMLSelectElement).value as WindowName)
        : view.window,
      channel: byId('channel', HTMLSelectElement).value,
      interval: byId('interval', HTMLSelectElement).value as Interval,
      segmentKey: byId('segment-key', HTMLSelectElement).value,
      segmentValue: byId('segment-value', HTMLInputElement).value.trim(),
    };
    showSegments(segmentKeys);
    refreshView();
  };
  for (const id of ['survey', 'window', 'channel', 'interval', 'segment-key']) {
    byId(id, HTMLSelectElement).addEventListener('change', onFilter);
  }
  // A typed value applies when it is complete: on Enter or on leaving the field. Enter submits
  // the filters form, which must not load the page again.
  byId('segment-value', HTMLInputElement).addEventListener('change', onFilter);
  byId('filters', HTMLFormElement).addEventListener('submit', (event) => {
    event.preventDefault();
    onFilter();
  });
}

async function boot(): Promise<void> {
  applyLanguage();
  wire();
  // The first-run login link carries the key in the fragment, which never reaches a server or a
  // log: it is exchanged for a session at once and removed from the address bar.
  const fragment = new URLSearchParams(location.hash.slice(1));
  const key = fragment.get('key');
  if (key !== null) {
    history.replaceState(null, '', location.pathname + location.search);
    await signInWith(key);
    return;
  }
  try {
    const current = await session();
    if (current.signedIn) await showDashboard(current);
    else showSignIn();
  } catch (error) {
    showSignIn(error instanceof Error ? error.message : String(error));
  }
}

void boot();

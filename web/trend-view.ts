import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import type { Annotation, HistoryBucket } from './api.js';
import { byId, el, fillTable, show } from './dom.js';
import type { Formatters } from './format.js';
import type { Language } from './i18n.js';
import { t } from './i18n.js';
import { PALETTE } from './palette.js';

/** How far back the trend reaches for each bucket size. */
export const TREND_SPAN_DAYS = { day: 30, week: 26 * 7, month: 365 } as const;
export type Interval = keyof typeof TREND_SPAN_DAYS;

let charts: uPlot[] = [];
let observer: ResizeObserver | undefined;

function width(node: HTMLElement): number {
  return Math.max(280, node.clientWidth);
}

/**
 * NPS per day, week or month with its 95 % band (uPlot), the response counts under it as bars,
 * and every value again in a table for screen readers and copying.
 */
export function renderTrend(
  series: readonly HistoryBucket[],
  annotations: readonly Annotation[],
  interval: Interval,
  language: Language,
  fmt: Formatters,
): void {
  for (const chart of charts) chart.destroy();
  charts = [];
  observer?.disconnect();
  const main = byId('trend-chart', HTMLElement);
  const counts = byId('trend-counts', HTMLElement);
  show(byId('trend-empty', HTMLElement), series.length === 0);
  show(main, series.length > 0);
  show(counts, series.length > 0);

  fillTable(
    byId('trend-table', HTMLTableElement),
    [t(language, 'period'), t(language, 'nps'), t(language, 'band'), t(language, 'responses')],
    series.map((b) => [
      fmt.period(Date.parse(b.start), interval),
      fmt.score(b.nps),
      b.nps === null || b.marginOfError === null
        ? '–'
        : `${fmt.score(b.nps - b.marginOfError)} – ${fmt.score(b.nps + b.marginOfError)}`,
      fmt.count(b.responses),
    ]),
  );
  // Annotations: a dashed line each on the chart, and the same as text under it.
  const list = byId('trend-annotations', HTMLUListElement);
  list.replaceChildren(
    ...annotations.map((a) =>
      el('li', {}, el('time', { datetime: a.at }, fmt.date(Date.parse(a.at))), ` ${a.label}`),
    ),
  );
  show(list, annotations.length > 0);
  if (series.length === 0) return;

  const label = t(language, 'trendLabel', {
    interval: t(language, interval).toLowerCase(),
    n: String(series.length),
  });
  main.setAttribute('aria-label', label);
  counts.setAttribute('aria-label', `${t(language, 'responses')}: ${label}`);

  const xs = series.map((b) => Date.parse(b.start) / 1000);
  const nps = series.map((b) => b.nps);
  const low = series.map((b) =>
    b.nps === null || b.marginOfError === null ? null : Math.max(-100, b.nps - b.marginOfError),
  );
  const high = series.map((b) =>
    b.nps === null || b.marginOfError === null ? null : Math.min(100, b.nps + b.marginOfError),
  );
  const xAxis: uPlot.Axis = {
    values: (_u, splits) => splits.map((s) => fmt.tick(s * 1000, interval)),
    space: 70,
    stroke: PALETTE.text,
    grid: { stroke: PALETTE.grid },
  };
  const yAxis: uPlot.Axis = {
    values: (_u, splits) => splits.map((s) => fmt.score(s)),
    stroke: PALETTE.text,
    grid: { stroke: PALETTE.grid },
    size: 48,
    space: 24,
  };
  const single = xs.length === 1;
  const pad = single ? 43_200 : 0;
  const xScale: uPlot.Scale = single
    ? { time: true, range: (_u, min, max) => [min - pad, max + pad] }
    : { time: true };
  const sync = { key: 'trend' };

  const npsChart = new uPlot(
    {
      width: width(main),
      height: 220,
      cursor: { sync },
      legend: { show: false },
      scales: {
        x: xScale,
        y: { range: (_u, min, max) => [Math.max(-100, min - 10), Math.min(100, max + 10)] },
      },
      axes: [xAxis, yAxis],
      series: [
        {},
        {
          label: t(language, 'nps'),
          stroke: PALETTE.promoter,
          width: 2,
          points: { show: true, size: 6 },
        },
        { label: t(language, 'band'), stroke: PALETTE.band, width: 1 },
        { label: t(language, 'band'), stroke: PALETTE.band, width: 1 },
      ],
      bands: [{ series: [3, 2], fill: PALETTE.bandFill }],
      hooks: {
        draw: [
          (u) => {
            drawAnnotations(u, annotations);
          },
        ],
      },
    },
    [xs, nps, low, high],
    main,
  );
  const bars = uPlot.paths.bars?.({ size: [0.6, 40] });
  const countChart = new uPlot(
    {
      width: width(counts),
      height: 100,
      cursor: { sync },
      legend: { show: false },
      scales: { x: xScale, y: { range: (_u, _min, max) => [0, Math.max(1, max)] } },
      axes: [xAxis, { ...yAxis, values: (_u, splits) => splits.map((s) => fmt.count(s)) }],
      series: [
        {},
        {
          label: t(language, 'responses'),
          fill: PALETTE.bars,
          stroke: PALETTE.bars,
          ...(bars && { paths: bars }),
        },
      ],
    },
    [xs, series.map((b) => b.responses)],
    counts,
  );
  charts = [npsChart, countChart];
  observer = new ResizeObserver(() => {
    npsChart.setSize({ width: width(main), height: 220 });
    countChart.setSize({ width: width(counts), height: 100 });
  });
  observer.observe(main);
}

/** A dashed vertical line at each annotation inside the chart's time range, labelled at its top. */
function drawAnnotations(u: uPlot, annotations: readonly Annotation[]): void {
  const { ctx } = u;
  const { top, height } = u.bbox;
  ctx.save();
  ctx.strokeStyle = PALETTE.detractor;
  ctx.fillStyle = PALETTE.text;
  ctx.setLineDash([4, 4]);
  ctx.lineWidth = Math.max(1, devicePixelRatio);
  ctx.font = `${String(11 * devicePixelRatio)}px system-ui, sans-serif`;
  for (const a of annotations) {
    const seconds = Date.parse(a.at) / 1000;
    const min = u.scales.x?.min ?? seconds;
    const max = u.scales.x?.max ?? seconds;
    if (seconds < min || seconds > max) continue;
    const x = u.valToPos(seconds, 'x', true);
    ctx.beginPath();
    ctx.moveTo(x, top);
    ctx.lineTo(x, top + height);
    ctx.stroke();
    ctx.fillText(a.label.slice(0, 40), x + 4, top + 12 * devicePixelRatio);
  }
  ctx.restore();
}

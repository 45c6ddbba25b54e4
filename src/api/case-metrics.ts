import { Gauge, Histogram } from 'prom-client';
import type { Registry } from 'prom-client';
import type { CaseStore } from '../storage/cases.js';

/**
 * Prometheus metrics of follow-up cases, in the process's registry. The gauges are read from
 * ClickHouse at each scrape, so every api process reports the same numbers and a restart loses
 * nothing; the histogram counts the first contacts this process recorded.
 */
export function createCaseMetrics(registry: Registry, store: CaseStore, now: () => number) {
  let latest: Promise<{ surveyId: string; open: number; overdue: number }[]> | undefined;
  // One query serves both gauges of a scrape.
  const read = () => (latest ??= store.gauges(now()).finally(() => (latest = undefined)));
  return {
    open: new Gauge({
      name: 'nps_cases_open',
      help: 'Follow-up cases not resolved (open or contacted), by survey.',
      labelNames: ['survey_id'] as const,
      registers: [registry],
      async collect() {
        this.reset();
        for (const g of await read()) this.set({ survey_id: g.surveyId }, g.open);
      },
    }),
    overdue: new Gauge({
      name: 'nps_cases_overdue',
      help: 'Follow-up cases past their dueAt (NPS_CASE_SLA_HOURS) without a first contact, by survey.',
      labelNames: ['survey_id'] as const,
      registers: [registry],
      async collect() {
        this.reset();
        for (const g of await read()) this.set({ survey_id: g.surveyId }, g.overdue);
      },
    }),
    timeToFirstContact: new Histogram({
      name: 'nps_case_time_to_first_contact_seconds',
      help: 'Time from a response to the first contact on its case (contacted or resolved).',
      buckets: [900, 3600, 4 * 3600, 8 * 3600, 24 * 3600, 48 * 3600, 96 * 3600, 7 * 86_400],
      registers: [registry],
    }),
  };
}

export type CaseMetrics = ReturnType<typeof createCaseMetrics>;

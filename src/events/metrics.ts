import { Counter, Gauge, Histogram } from 'prom-client';
import type { Registry } from 'prom-client';

/** The deliverer's Prometheus metrics, in the process's registry (GET /metrics). */
export function webhookMetrics(registry: Registry) {
  return {
    deliveries: new Counter({
      name: 'nps_webhook_deliveries_total',
      help: 'Webhook delivery attempts by outcome (delivered, failed, dead-lettered, withheld).',
      labelNames: ['outcome'] as const,
      registers: [registry],
    }),
    queueDepth: new Gauge({
      name: 'nps_webhook_queue_depth',
      help: 'Webhook deliveries waiting for their first attempt or a retry.',
      registers: [registry],
    }),
    latency: new Histogram({
      name: 'nps_webhook_delivery_seconds',
      help: 'From an event on the topic to its successful delivery.',
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 30, 300, 3600],
      registers: [registry],
    }),
  };
}

export type WebhookMetrics = ReturnType<typeof webhookMetrics>;

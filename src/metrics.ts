import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** The Prometheus metrics of one process, served at GET /metrics. */
export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'nps_' });
  return {
    registry,
    ingested: new Counter({
      name: 'nps_ingest_total',
      help: 'Ingest requests by channel and outcome (accepted, rejected, unavailable, ignored).',
      labelNames: ['channel', 'outcome'] as const,
      registers: [registry],
    }),
    processed: new Counter({
      name: 'nps_processed_records_total',
      help: 'Records decoded and applied by the stream processor.',
      registers: [registry],
    }),
    deadLettered: new Counter({
      name: 'nps_dead_lettered_records_total',
      help: 'Records sent to the dead-letter topic.',
      registers: [registry],
    }),
    consumerLag: new Gauge({
      name: 'nps_consumer_lag_records',
      help: 'Records behind the high watermark after the last batch, by partition.',
      labelNames: ['partition'] as const,
      registers: [registry],
    }),
    batchSize: new Histogram({
      name: 'nps_batch_size_records',
      help: 'Records per processed partition batch.',
      buckets: [1, 10, 50, 100, 500, 1000, 5000],
      registers: [registry],
    }),
    sinkUp: new Gauge({
      name: 'nps_history_sink_up',
      help: "1 while ClickHouse takes the processor's writes, 0 while they fail and consumption is paused.",
      registers: [registry],
    }),
    sinkRetries: new Counter({
      name: 'nps_history_sink_retries_total',
      help: 'Failed ClickHouse writes the processor retried.',
      registers: [registry],
    }),
    sinkLatency: new Histogram({
      name: 'nps_sink_latency_seconds',
      help: 'Time to apply a batch to Redis and ClickHouse and commit it.',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;

/**
 * The ceilings our pipeline is compared with, measured in the same run on the same topic shape:
 * Kafka's own Java producer and consumer (ProducerPerformance, ConsumerPerformance from the
 * kafka-tools jar, next to the broker's jars in the stack cache) and kafkajs raw produce and
 * consume (no-op eachBatch). ~150-byte records, acks=all, idempotent producers.
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Kafka, logLevel } from 'kafkajs';
import { KAFKA_VERSION } from '../deploy/local/kafka.js';
import { maven, pickJdk } from '../deploy/local/toolchain.js';

const run = promisify(execFile);

/** CPU seconds (user + system) of this process and of the children it has waited for. */
export function cpuSeconds(pid: number | 'self' = 'self'): { own: number; children: number } {
  // Fields 14-17 of /proc/<pid>/stat: utime, stime, cutime, cstime, in clock ticks (100/s).
  const stat = readFileSync(`/proc/${String(pid)}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const tick = (i: number) => Number(fields[i - 3] ?? 0) / 100;
  return { own: tick(14) + tick(15), children: tick(16) + tick(17) };
}

export interface Measure {
  readonly name: string;
  readonly records: number;
  readonly perSecond: number;
  /** CPU seconds spent by the measuring client (the load generator) meanwhile. */
  readonly clientCpu: number;
  readonly note?: string;
}

/** The broker's jars plus kafka-tools, fetched once into the stack cache beside them. */
async function toolsClasspath(cacheDir: string): Promise<string> {
  const lib = join(cacheDir, `kafka-${KAFKA_VERSION}`, 'lib');
  const tools = join(cacheDir, `kafka-tools-${KAFKA_VERSION}`);
  if (!existsSync(tools) || !readdirSync(tools).some((f) => f.startsWith('kafka-tools-'))) {
    const partial = `${tools}.partial`;
    rmSync(partial, { recursive: true, force: true });
    await maven([
      'dependency:copy',
      `-Dartifact=org.apache.kafka:kafka-tools:${KAFKA_VERSION}`,
      `-DoutputDirectory=${partial}`,
    ]);
    renameSync(partial, tools);
  }
  return `${join(lib, '*')}:${join(tools, '*')}`;
}

export class Ceilings {
  readonly #brokers: readonly string[];
  readonly #cacheDir: string;
  readonly #kafka: Kafka;

  constructor(brokers: readonly string[], cacheDir: string) {
    this.#brokers = brokers;
    this.#cacheDir = cacheDir;
    this.#kafka = new Kafka({ brokers: [...brokers], logLevel: logLevel.NOTHING });
  }

  async createTopic(topic: string, partitions: number): Promise<void> {
    const admin = this.#kafka.admin();
    await admin.connect();
    await admin.createTopics({
      topics: [{ topic, numPartitions: partitions }],
      waitForLeaders: true,
    });
    await admin.disconnect();
  }

  async deleteTopics(topics: string[]): Promise<void> {
    const admin = this.#kafka.admin();
    await admin.connect();
    await admin.deleteTopics({ topics }).catch(() => undefined);
    await admin.disconnect();
  }

  async #java(main: string, args: string[]): Promise<{ stdout: string; cpu: number }> {
    const { java } = await pickJdk('Kafka tools', 17);
    const classpath = await toolsClasspath(this.#cacheDir);
    const before = cpuSeconds().children;
    const { stdout } = await run(java, ['-cp', classpath, main, ...args], {
      maxBuffer: 16 * 1024 * 1024,
    });
    return { stdout, cpu: cpuSeconds().children - before };
  }

  /** ProducerPerformance: records/s from its summary line. */
  async javaProduce(topic: string, records: number): Promise<Measure> {
    const { stdout, cpu } = await this.#java('org.apache.kafka.tools.ProducerPerformance', [
      '--topic',
      topic,
      '--num-records',
      String(records),
      '--record-size',
      '150',
      '--throughput',
      '-1',
      '--producer-props',
      `bootstrap.servers=${this.#brokers.join(',')}`,
      'acks=all',
      'enable.idempotence=true',
    ]);
    const match = /(\d+) records sent, ([\d.]+) records\/sec/.exec(
      stdout.trim().split('\n').pop() ?? '',
    );
    return {
      name: 'Java ProducerPerformance',
      records,
      perSecond: Math.round(Number(match?.[2])),
      clientCpu: cpu,
    };
  }

  /** ConsumerPerformance: fetch.nMsg.sec (from the first fetch, without the group join). */
  async javaConsume(topic: string, records: number): Promise<Measure> {
    const { stdout, cpu } = await this.#java('org.apache.kafka.tools.ConsumerPerformance', [
      '--bootstrap-server',
      this.#brokers.join(','),
      '--topic',
      topic,
      '--messages',
      String(records),
      '--timeout',
      '60000',
    ]);
    const fields = (stdout.trim().split('\n').pop() ?? '').split(',').map((s) => s.trim());
    return {
      name: 'Java ConsumerPerformance',
      records: Number(fields[4]),
      perSecond: Math.round(Number(fields[9])),
      clientCpu: cpu,
      note: 'fetch.nMsg.sec',
    };
  }

  /** kafkajs idempotent producer, acks=all, batches of 1,000 with a few in flight. */
  async kafkajsProduce(topic: string, records: number): Promise<Measure> {
    const producer = this.#kafka.producer({ idempotent: true, maxInFlightRequests: 5 });
    await producer.connect();
    const value = Buffer.alloc(150, 'x');
    const cpu0 = cpuSeconds().own;
    const began = performance.now();
    const chunk = 1000;
    let next = 0;
    const worker = async () => {
      while (next < records) {
        const n = Math.min(chunk, records - next);
        next += n;
        await producer.send({
          topic,
          acks: -1,
          messages: Array.from({ length: n }, () => ({ value })),
        });
      }
    };
    await Promise.all(Array.from({ length: 4 }, worker));
    const seconds = (performance.now() - began) / 1000;
    const cpu = cpuSeconds().own - cpu0;
    await producer.disconnect();
    return {
      name: 'kafkajs raw produce',
      records,
      perSecond: Math.round(records / seconds),
      clientCpu: cpu,
    };
  }

  /**
   * kafkajs consumer with a no-op eachBatch and the processor's fetch settings, timed from the
   * group join to the last record, like the processor's drain.
   */
  async kafkajsConsume(
    topic: string,
    records: number,
    fetch: { maxBytesPerPartition: number; maxWaitTimeInMs: number; concurrency: number },
  ): Promise<Measure> {
    const consumer = this.#kafka.consumer({
      groupId: `${topic}.raw`,
      maxBytesPerPartition: fetch.maxBytesPerPartition,
      maxWaitTimeInMs: fetch.maxWaitTimeInMs,
      maxBytes: Math.max(10 * 1024 * 1024, fetch.maxBytesPerPartition * 4),
    });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    let seen = 0;
    let joined: { at: number; cpu: number } | undefined;
    consumer.on(consumer.events.GROUP_JOIN, () => {
      joined ??= { at: performance.now(), cpu: cpuSeconds().own };
    });
    const done = new Promise<{ at: number; cpu: number }>((resolve) => {
      void consumer.run({
        partitionsConsumedConcurrently: fetch.concurrency,
        eachBatch: async ({ batch }) => {
          seen += batch.messages.length;
          if (seen >= records) resolve({ at: performance.now(), cpu: cpuSeconds().own });
          return Promise.resolve();
        },
      });
    });
    const end = await done;
    await consumer.disconnect();
    const j = joined ?? { at: Number.NaN, cpu: Number.NaN };
    return {
      name: 'kafkajs raw consume',
      records,
      perSecond: Math.round(records / ((end.at - j.at) / 1000)),
      clientCpu: end.cpu - j.cpu,
      note: 'no-op eachBatch',
    };
  }
}

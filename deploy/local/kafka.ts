import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { execFileAsync, maven, pickJdk } from './toolchain.js';
import type { LocalService, StackContext } from './service.js';
import { startDaemon } from './processes.js';

export const KAFKA_VERSION = '4.1.2';
const HEALTH_TOPIC = 'nps.stack.health';

const LOG4J2 = `<Configuration status="warn">
  <Appenders>
    <Console name="out" target="SYSTEM_OUT"><PatternLayout pattern="[%d] %p %m (%c)%n"/></Console>
  </Appenders>
  <Loggers>
    <Root level="info"><AppenderRef ref="out"/></Root>
    <Logger name="org.apache.kafka.clients" level="warn"/>
    <Logger name="state.change.logger" level="warn"/>
    <Logger name="kafka.log" level="warn"/>
    <Logger name="org.apache.kafka.storage" level="warn"/>
  </Loggers>
</Configuration>
`;

function serverProperties(port: number, controllerPort: number, dataDir: string): string {
  return `# Written by deploy/local/kafka.ts on every start; edit that file, not this one.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:${controllerPort}
listeners=PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controllerPort}
advertised.listeners=PLAINTEXT://127.0.0.1:${port}
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=${dataDir}
num.partitions=1
default.replication.factor=1
min.insync.replicas=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=10
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=10
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=false
log.retention.hours=168
`;
}

export function kafkaService(ctx: StackContext): LocalService {
  const port = ctx.config.stackKafkaPort;
  const controllerPort = port + 1;
  const home = join(ctx.config.stackDir, 'kafka');
  const lib = join(ctx.config.cacheDir, `kafka-${KAFKA_VERSION}`, 'lib');
  const dataDir = join(home, 'data');
  const properties = join(home, 'server.properties');
  const log4j = join(home, 'log4j2.xml');
  const daemon = {
    name: 'Kafka',
    pidFile: join(home, 'kafka.pid'),
    logFile: join(home, 'kafka.log'),
    marker: `-Dnps.stack=${home}`,
  };
  const brokers = [`127.0.0.1:${port}`];

  async function java(): Promise<string> {
    return (await pickJdk('Kafka', 17, ctx.config.kafkaJavaHome)).java;
  }

  return {
    daemon,
    version: () => Promise.resolve(KAFKA_VERSION),
    address: brokers[0] ?? '',
    env: { KAFKA_BROKERS: brokers.join(',') },
    ports: [
      { port, setting: 'NPS_STACK_KAFKA_PORT' },
      { port: controllerPort, setting: 'NPS_STACK_KAFKA_PORT (controller: port + 1)' },
    ],
    readyTimeoutMs: 90_000,

    async install() {
      if (existsSync(lib) && readdirSync(lib).some((f) => f.startsWith('kafka_2.13-'))) return;
      // Copy into a sibling folder and rename, so an interrupted download never looks complete.
      const partial = `${lib}.partial`;
      rmSync(partial, { recursive: true, force: true });
      await maven([
        'dependency:copy-dependencies',
        '-DincludeScope=runtime',
        `-DoutputDirectory=${partial}`,
      ]);
      renameSync(partial, lib);
    },

    async start() {
      mkdirSync(home, { recursive: true });
      writeFileSync(properties, serverProperties(port, controllerPort, dataDir));
      writeFileSync(log4j, LOG4J2);
      const javaBin = await java();
      const common = ['-cp', join(lib, '*'), `-Dlog4j2.configurationFile=${log4j}`];
      if (!existsSync(join(dataDir, 'meta.properties'))) {
        // A KRaft cluster id is 16 random bytes in URL-safe base64, what StorageTool random-uuid prints.
        const clusterId = randomBytes(16).toString('base64url');
        await execFileAsync(javaBin, [
          ...common,
          'kafka.tools.StorageTool',
          'format',
          // One argument, so an id that starts with '-' (1 in 64) is not taken for an option.
          `--cluster-id=${clusterId}`,
          '-c',
          properties,
        ]);
      }
      startDaemon(daemon, javaBin, [
        '-Xms512m',
        '-Xmx512m',
        '-XX:+UseG1GC',
        '-Djava.awt.headless=true',
        daemon.marker,
        ...common,
        'kafka.Kafka',
        properties,
      ]);
    },

    async ready() {
      await produceConsumeRoundTrip(brokers);
    },
  };
}

/**
 * The broker is ready when a record produced with acks=all comes back to a consumer that joined a
 * group: that proves the partition leader, the group coordinator and __consumer_offsets all work.
 */
async function produceConsumeRoundTrip(brokers: string[]): Promise<void> {
  const kafka = new Kafka({
    clientId: 'nps-stack-health',
    brokers,
    logLevel: logLevel.NOTHING,
    retry: { retries: 2 },
    connectionTimeout: 2000,
  });
  const admin = kafka.admin();
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  const groupId = `nps-stack-health-${randomUUID()}`;
  const consumer = kafka.consumer({ groupId, sessionTimeout: 10_000, heartbeatInterval: 1000 });
  try {
    await admin.connect();
    const topics = await admin.listTopics();
    if (!topics.includes(HEALTH_TOPIC)) {
      await admin.createTopics({
        topics: [{ topic: HEALTH_TOPIC, numPartitions: 1 }],
        waitForLeaders: true,
      });
    }
    const nonce = randomUUID();
    await producer.connect();
    const [sent] = await producer.send({
      topic: HEALTH_TOPIC,
      acks: -1,
      messages: [{ value: nonce }],
    });
    await consumer.connect();
    await consumer.subscribe({ topic: HEALTH_TOPIC, fromBeginning: false });
    const received = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new Error('the produced record did not come back within 20s'));
      }, 20_000);
      void consumer.run({
        eachMessage: async ({ message }) => {
          if (message.value?.toString() === nonce) {
            clearTimeout(timer);
            resolve();
          }
          return Promise.resolve();
        },
      });
    });
    // Start reading at the record we just wrote, whatever offset reset the new group would take.
    consumer.seek({ topic: HEALTH_TOPIC, partition: 0, offset: sent?.baseOffset ?? '0' });
    await received;
  } finally {
    await consumer.disconnect().catch(() => undefined);
    await producer.disconnect().catch(() => undefined);
    await admin.deleteGroups([groupId]).catch(() => undefined);
    await admin.disconnect().catch(() => undefined);
  }
}

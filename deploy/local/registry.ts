import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { execFileAsync, maven, pickJdk } from './toolchain.js';
import type { Jdk } from './toolchain.js';
import type { LocalService, StackContext } from './service.js';
import { startDaemon } from './processes.js';

/**
 * Apicurio Registry releases we can run, newest first. 3.1.7 is not on Maven Central (only 3.0.9,
 * 3.3.2 and 3.3.3 of the 3.x line are), so we take 3.3.3 where a JDK 21+ exists and fall back to
 * 3.0.9, the newest that runs on Java 17.
 */
const RELEASES = [
  { version: '3.3.3', minJava: 21, jar: 'quarkus-run.jar' },
  { version: '3.0.9', minJava: 17, jar: 'apicurio-registry-app-3.0.9-runner.jar' },
] as const;

/** Confluent's default; Apicurio's own default is NONE, which would accept any schema change. */
export const REGISTRY_COMPATIBILITY = 'BACKWARD';

async function pickRelease(
  explicitHome: string | undefined,
): Promise<{ release: (typeof RELEASES)[number]; jdk: Jdk }> {
  let lastError: unknown;
  for (const release of RELEASES) {
    try {
      return {
        release,
        jdk: await pickJdk(`Apicurio Registry ${release.version}`, release.minJava, explicitHome),
      };
    } catch (error) {
      lastError = error;
    }
  }
  throw lastError;
}

export function registryService(ctx: StackContext): LocalService {
  const port = ctx.config.stackRegistryPort;
  const home = join(ctx.config.stackDir, 'registry');
  const baseUrl = `http://127.0.0.1:${port}/apis/ccompat/v7`;
  const daemon = {
    name: 'Apicurio Registry',
    pidFile: join(home, 'registry.pid'),
    logFile: join(home, 'registry.log'),
    marker: `-Dnps.stack=${home}`,
  };
  let chosen: Awaited<ReturnType<typeof pickRelease>> | undefined;
  const choose = async () => (chosen ??= await pickRelease(ctx.config.apicurioJavaHome));
  const distDir = (version: string) => join(ctx.config.cacheDir, `apicurio-registry-${version}`);

  return {
    daemon,
    version: async () => (await choose()).release.version,
    address: baseUrl,
    env: { SCHEMA_REGISTRY_URL: baseUrl },
    ports: [
      { port, setting: 'NPS_STACK_REGISTRY_PORT' },
      { port: port + 1, setting: 'NPS_STACK_REGISTRY_PORT (management: port + 1)' },
    ],
    readyTimeoutMs: 120_000,

    async install() {
      const { release } = await choose();
      const dist = distDir(release.version);
      if (existsSync(join(dist, release.jar))) return;
      const partial = `${dist}.partial`;
      rmSync(partial, { recursive: true, force: true });
      mkdirSync(partial, { recursive: true });
      const archive = join(partial, `apicurio-registry-app-${release.version}-all.tar.gz`);
      // The 2.8 plugin's get, without transitives: 3.0.9's parent pom is not on Central, and the
      // newer plugin's get and copy insist on reading it although the distribution is there.
      await maven([
        'org.apache.maven.plugins:maven-dependency-plugin:2.8:get',
        `-Dartifact=io.apicurio:apicurio-registry-app:${release.version}:tar.gz:all`,
        '-Dtransitive=false',
        `-Ddest=${archive}`,
      ]);
      await execFileAsync('tar', ['-xzf', archive, '-C', partial]);
      rmSync(archive);
      renameSync(partial, dist);
    },

    async start() {
      const { release, jdk } = await choose();
      mkdirSync(home, { recursive: true });
      // H2 in a file rather than in memory: schema ids are written into every Kafka record, so the
      // registry must keep them as long as the broker keeps the records.
      startDaemon(
        daemon,
        jdk.java,
        [
          '-Xms128m',
          '-Xmx384m',
          daemon.marker,
          `-Dquarkus.http.host=127.0.0.1`,
          `-Dquarkus.http.port=${port}`,
          // Quarkus also opens a management port, by default 9000 on every interface.
          '-Dquarkus.management.host=127.0.0.1',
          `-Dquarkus.management.port=${port + 1}`,
          `-Dapicurio.datasource.url=jdbc:h2:file:${join(home, 'h2', 'registry')}`,
          '-jar',
          join(distDir(release.version), release.jar),
        ],
        { cwd: home },
      );
    },

    async ready() {
      const subjects = await fetch(`${baseUrl}/subjects`, { signal: AbortSignal.timeout(2000) });
      if (!subjects.ok) throw new Error(`GET /subjects answered ${subjects.status}`);
      const put = await fetch(`${baseUrl}/config`, {
        method: 'PUT',
        headers: { 'content-type': 'application/vnd.schemaregistry.v1+json' },
        body: JSON.stringify({ compatibility: REGISTRY_COMPATIBILITY }),
        signal: AbortSignal.timeout(2000),
      });
      if (!put.ok) throw new Error(`PUT /config answered ${put.status}: ${await put.text()}`);
    },
  };
}

import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { NpsError } from '../../src/errors.js';

const run = promisify(execFile);

export interface Jdk {
  readonly home: string | undefined;
  readonly java: string;
  readonly major: number;
}

function majorOf(version: string): number {
  const parts = version.split(/[._-]/);
  const first = Number(parts[0]);
  // Java 8 and older report "1.8.0_...".
  return first === 1 ? Number(parts[1]) : first;
}

function jdkAt(home: string): Jdk | undefined {
  const java = join(home, 'bin', 'java');
  const release = join(home, 'release');
  if (!existsSync(java) || !existsSync(release)) return undefined;
  const match = /^JAVA_VERSION="([^"]+)"/m.exec(readFileSync(release, 'utf8'));
  return match?.[1] === undefined ? undefined : { home, java, major: majorOf(match[1]) };
}

async function javaOnPath(): Promise<Jdk | undefined> {
  try {
    const { stderr } = await run('java', ['-version']);
    const match = /version "([^"]+)"/.exec(stderr);
    return match?.[1] === undefined
      ? undefined
      : { home: undefined, java: 'java', major: majorOf(match[1]) };
  } catch {
    return undefined;
  }
}

/** Every JDK we can find: the one on PATH and those under /usr/lib/jvm, newest first. */
export async function findJdks(jvmRoot = '/usr/lib/jvm'): Promise<Jdk[]> {
  const found: Jdk[] = [];
  const onPath = await javaOnPath();
  if (onPath) found.push(onPath);
  if (existsSync(jvmRoot)) {
    for (const entry of readdirSync(jvmRoot)) {
      const jdk = jdkAt(join(jvmRoot, entry));
      if (jdk) found.push(jdk);
    }
  }
  return found.sort((a, b) => b.major - a.major);
}

/** The JDK in `explicitHome`, or else the newest found that is at least `minMajor`. */
export async function pickJdk(
  purpose: string,
  minMajor: number,
  explicitHome?: string,
): Promise<Jdk> {
  if (explicitHome !== undefined) {
    const jdk = jdkAt(explicitHome);
    if (!jdk) throw new NpsError('PREREQUISITE_MISSING', `${purpose}: no JDK at ${explicitHome}`);
    if (jdk.major < minMajor) {
      throw new NpsError(
        'PREREQUISITE_MISSING',
        `${purpose}: ${explicitHome} is Java ${jdk.major}, needs ${minMajor}+`,
      );
    }
    return jdk;
  }
  const jdk = (await findJdks()).find((j) => j.major >= minMajor);
  if (!jdk) {
    throw new NpsError(
      'PREREQUISITE_MISSING',
      `${purpose} needs Java ${minMajor}+ and none was found on PATH or under /usr/lib/jvm. ` +
        `Install one (Debian: apt-get install openjdk-17-jre-headless) or set its JDK folder.`,
    );
  }
  return jdk;
}

/** The pom that pins what the local stack fetches from Maven Central. */
export const STACK_POM = fileURLToPath(new URL('./pom.xml', import.meta.url));

/**
 * Runs Maven in batch mode against the stack's pom. Artifacts land in Maven's own repository
 * (~/.m2), so a second clone on the same machine downloads nothing.
 */
export async function maven(args: readonly string[]): Promise<void> {
  try {
    await run('mvn', ['-q', '-B', '-Dstyle.color=never', '-f', STACK_POM, ...args], {
      maxBuffer: 16 * 1024 * 1024,
    });
  } catch (error) {
    const e = error as NodeJS.ErrnoException & { stdout?: string; stderr?: string };
    if (e.code === 'ENOENT') {
      throw new NpsError(
        'PREREQUISITE_MISSING',
        'Maven (mvn) is not on PATH; the local stack fetches Kafka and Apicurio with it (Debian: apt-get install maven).',
      );
    }
    const output = stripAnsi(`${e.stdout ?? ''}${e.stderr ?? ''}`)
      .trim()
      .split('\n')
      .slice(-15)
      .join('\n');
    throw new NpsError('SERVICE_START_FAILED', `mvn ${args.join(' ')} failed:\n${output}`, {
      cause: error,
      retriable: true,
    });
  }
}

function stripAnsi(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/\u001b\[[0-9;]*m/g, '');
}

export async function commandExists(command: string): Promise<boolean> {
  try {
    await run('sh', ['-c', `command -v "$0"`, command]);
    return true;
  } catch {
    return false;
  }
}

export { run as execFileAsync };

import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DockerComposeEnvironment, Wait } from 'testcontainers';
import type { StartedDockerComposeEnvironment } from 'testcontainers';
import { composeEndpoints } from '../../src/config/endpoints.js';
import type { Endpoints } from '../../src/config/endpoints.js';

/**
 * Where a Docker engine answers, the tests run against deploy/docker-compose.yml itself, started by
 * testcontainers: the very file users run, so the two paths cannot drift apart.
 */
export async function composeUp(): Promise<{ endpoints: Endpoints; stop: () => Promise<void> }> {
  const file = fileURLToPath(new URL('../../deploy/docker-compose.yml', import.meta.url));
  const environment: StartedDockerComposeEnvironment = await new DockerComposeEnvironment(
    dirname(file),
    'docker-compose.yml',
  )
    .withDefaultWaitStrategy(Wait.forHealthCheck())
    .withWaitStrategy('schema-registry-config-1', Wait.forOneShotStartup())
    .up();
  return {
    endpoints: composeEndpoints(),
    stop: async () => {
      await environment.down();
    },
  };
}

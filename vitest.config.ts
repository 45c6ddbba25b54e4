import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['tests/unit/**/*.test.ts'],
          setupFiles: ['tests/support/fast-check-setup.ts'],
        },
      },
      {
        test: {
          name: 'integration',
          include: ['tests/integration/**/*.test.ts'],
          globalSetup: ['tests/support/global-setup.ts'],
          setupFiles: ['tests/support/fast-check-setup.ts'],
          // Real services: room for a consumer group join and a first ClickHouse start.
          testTimeout: 60_000,
          hookTimeout: 60_000,
          // Each worker is its own process, so each gets its own embedded ClickHouse folder.
          pool: 'forks',
        },
      },
    ],
  },
});

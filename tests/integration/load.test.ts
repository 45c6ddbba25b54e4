import { describe, expect, it } from 'vitest';
import { runLoad } from '../../bench/load.js';
import { endpoints } from '../support/services.js';

describe('npm run load', () => {
  it(
    'mixed-channel load: no 5xx, and every accepted response is counted exactly once, live and in history',
    { timeout: 240_000 },
    async () => {
      const result = await runLoad({
        seconds: 8,
        connections: 16,
        endpoints: endpoints(),
        log: () => undefined,
      });
      expect(result.status5xx).toBe(0);
      for (const channel of ['api', 'sms', 'email', 'link'] as const)
        expect(result.accepted[channel], channel).toBeGreaterThan(0);
      expect(result.live).toBe(result.acceptedTotal);
      expect(result.history).toBe(result.acceptedTotal);
    },
  );
});

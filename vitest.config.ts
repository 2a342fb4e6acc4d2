import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Training tests are slow-ish on 2 cores; files run in parallel, tests inside a file in order.
    testTimeout: 120_000,
    hookTimeout: 120_000,
    env: {
      // Tests never reach the network and never read a developer's dataset cache.
      RUNNER_OFFLINE: '1',
      RUNNER_CACHE: join(tmpdir(), 'runner-test-cache-none'),
    },
  },
});

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defineConfig } from 'vitest/config';

// One cache folder per test run (stage cache, decompressed IDX files), removed at the end: no
// test sees a developer's cache or what an earlier run left.
const cache = mkdtempSync(join(tmpdir(), 'runner-test-cache-'));
process.on('exit', () => rmSync(cache, { recursive: true, force: true }));

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Training tests are slow-ish on 2 cores; files run in parallel, tests inside a file in order.
    testTimeout: 120_000,
    hookTimeout: 120_000,
    env: {
      // Tests never reach the network.
      RUNNER_OFFLINE: '1',
      RUNNER_CACHE: cache,
    },
  },
});

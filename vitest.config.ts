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
    // Files run two at a time, tests inside a file in order. Vitest's default is cores - 1, one
    // file at a time on these 2-core machines, while many files mostly wait on child processes.
    maxWorkers: 2,
    testTimeout: 120_000,
    hookTimeout: 120_000,
    env: {
      // Tests never reach the network.
      RUNNER_OFFLINE: '1',
      RUNNER_CACHE: cache,
    },
  },
});

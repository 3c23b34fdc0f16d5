import { defineConfig } from 'vitest/config';

// Two cores: keep parallelism modest so Redis/Chromium tests do not starve each other.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // A real Redis for *.redis.test.ts: REDIS_URL, 127.0.0.1:6379, or a throwaway redis-server.
    globalSetup: ['test/global-setup.ts'],
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // In CI also write a JSON report; .ci/run prints its "N passed, N failed" line.
    reporters: process.env.CI ? ['default', 'json'] : ['default'],
    outputFile: process.env.CI ? { json: 'var/ci/vitest.json' } : undefined,
  },
});

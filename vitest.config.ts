import { defineConfig } from 'vitest/config';

// Two cores: keep parallelism modest so Redis/Chromium tests do not starve each other.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});

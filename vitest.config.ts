import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    // Integration tests start real servers and mount real filesystems: give them time, not mocks.
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});

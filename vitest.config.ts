import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The real agent CLIs live in test/agents-cli with their own lockfile; this installs them once.
    globalSetup: ['test/setup/agent-clis.ts'],
    setupFiles: ['test/helpers/cache-dir.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});

// Test runner configuration: unit tests beside the code, cross-module suites in test/.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['server/src/**/*.test.ts', 'sdk/src/**/*.test.ts', 'test/**/*.test.ts', 'bench/**/*.test.ts'],
    // Generous: on a shared 2-core machine under load a test may take many times its usual time;
    // a timeout is only there to end a test that hangs.
    testTimeout: 120_000,
    hookTimeout: 180_000,
    pool: 'forks',
    reporters: ['default'],
  },
});

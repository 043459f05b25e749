import { defineConfig } from 'vitest/config';

// `unit` needs nothing running; `integration` talks to a real test bed (HAProxy, Prometheus,
// Redis, the reference fleet) brought up once by its global setup; `interop` starts real
// OpenClaw gateways.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          testTimeout: 30_000,
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          globalSetup: ['test/integration/global-setup.ts'],
          fileParallelism: false,
          testTimeout: 120_000,
          hookTimeout: 240_000,
        },
      },
      {
        // Real OpenClaw gateways (npm `openclaw`, installed once into ~/.cache/clawstorm/openclaw):
        // `npm run test:interop`. Not part of `npm test` yet (see README).
        test: {
          name: 'interop',
          include: ['test/interop/**/*.test.ts'],
          fileParallelism: false,
          testTimeout: 120_000,
          hookTimeout: 900_000,
        },
      },
    ],
  },
});

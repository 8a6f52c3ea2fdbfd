import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 120_000,
    hookTimeout: 180_000,
    // Terraform and the scanners are CPU-heavy; two cores means two workers at most.
    maxWorkers: 2,
    reporters: process.env.CI ? ['default'] : ['default'],
  },
});

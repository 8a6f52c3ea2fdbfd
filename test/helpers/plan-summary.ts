// A minimal PlanSummary (one resource to add) for tests where the plan's contents do not matter, only that one exists.
import type { PlanSummary } from '../../src/core/types.js';

export const ONE_ADD_SUMMARY: PlanSummary = {
  terraformVersion: '1.11.4',
  formatVersion: '1.2',
  counts: { add: 1, change: 0, destroy: 0, replace: 0, import: 0, read: 0, noop: 0 },
  resources: [],
  drift: [],
  outputs: [],
  empty: false,
  errored: false,
};

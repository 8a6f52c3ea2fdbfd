// The report a drift check leaves in the store (drift_status.report): what the issue body is rendered from and what
// the next check compares itself with. Parsed with zod on the way out of the database like every other row.
import { z } from 'zod';

const Action = z.enum(['create', 'update', 'delete', 'replace', 'read', 'no-op', 'import', 'forget']);

export const DriftedResourceSchema = z.object({
  address: z.string(),
  outside: Action.optional(),
  plan: Action.optional(),
  attributes: z.array(z.string()),
});

export const DriftReportSchema = z.object({
  status: z.enum(['clean', 'drifted', 'error']),
  project: z.object({ name: z.string(), dir: z.string(), workspace: z.string() }),
  trigger: z.enum(['schedule', 'command', 'auto']),
  checkedAt: z.string(),
  previousCheckAt: z.string().optional(),
  firstSeenAt: z.string().optional(),
  /** Checks since the drift (or failure) was first seen. */
  checks: z.number().int().nonnegative(),
  resources: z.array(DriftedResourceSchema),
  delta: z
    .object({ appeared: z.array(z.string()), resolved: z.array(z.string()), changed: z.array(z.string()) })
    .optional(),
  planHeadline: z.string().optional(),
  error: z.string().optional(),
  /** sha256 of the last error posted as a comment: the same error is posted once. */
  errorHash: z.string().optional(),
  /** The reconcile pull request auto_reconcile already asked for (one per drift issue). */
  autoReconciled: z.boolean().optional(),
});
export type DriftReport = z.infer<typeof DriftReportSchema>;

export function parseReport(value: unknown): DriftReport | undefined {
  const parsed = DriftReportSchema.safeParse(value);
  return parsed.success ? parsed.data : undefined;
}

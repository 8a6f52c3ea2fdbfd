// The one zod schema of a Finding read back from storage (plan records, the scan result cache), and its conversion to
// the core type, which uses exact optional properties.
import { z } from 'zod';
import type { Finding } from './types.js';

const SOURCES = ['tfsec', 'trivy', 'checkov', 'opa', 'pregate', 'cost'] as const;
export const FindingSourceSchema = z.enum(SOURCES);

export const FindingSchema = z.object({
  ruleId: z.string(),
  source: FindingSourceSchema,
  sources: z.array(FindingSourceSchema),
  sourceIds: z.array(z.string()),
  severity: z.enum(['critical', 'high', 'medium', 'low', 'info']),
  level: z.enum(['hard', 'soft', 'advisory']),
  address: z.string().optional(),
  file: z.string().optional(),
  line: z.number().optional(),
  message: z.string(),
  remediation: z.string().optional(),
  notVerified: z.boolean().optional(),
});

/** Copy the defined fields only: the core types use exact optional properties. */
export function toFinding(f: z.infer<typeof FindingSchema>): Finding {
  const { address, file, line, remediation, notVerified, ...rest } = f;
  return {
    ...rest,
    ...(address !== undefined ? { address } : {}),
    ...(file !== undefined ? { file } : {}),
    ...(line !== undefined ? { line } : {}),
    ...(remediation !== undefined ? { remediation } : {}),
    ...(notVerified !== undefined ? { notVerified } : {}),
  };
}

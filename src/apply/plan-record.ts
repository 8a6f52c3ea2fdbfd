// What a plan run leaves behind for the approval to act on: per project the saved plan (encrypted in the store,
// bound to head SHA + base SHA + plan hash) and the gate's scanner runs for that plan hash, and per PR the "plan set"
// — which projects the latest plan run covered and which plan hash each got. At approval the verdict is decided again
// from the recorded scanner runs and the overrides given for exactly that plan hash, so an override never carries
// over and a plan nobody saw is never applied.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { FindingSchema, toFinding } from '../core/finding-schema.js';
import { planSetKey } from '../core/plan-set-key.js';
import type { ChecksResult, Project, ScannerRun } from '../core/types.js';
import type { SavedPlanRecord, Store } from '../store/types.js';

export interface PlannedProject {
  name: string;
  dir: string;
  workspace: string;
  dependsOn: string[];
  /** null when the project did not produce a plan (init/validate/plan failed or the guard blocked). */
  planHash: string | null;
  /** Why there is no plan, short. */
  error?: string;
}

export interface PlanSet {
  repo: string;
  pr: number;
  headSha: string;
  baseSha: string;
  /**
   * What was planned: `merge` — the head merged into the base at `baseSha` (a person's PR, or the App's branch when
   * it was behind its base); absent — the head itself. An apply checks out the same thing.
   */
  planned?: 'merge' | undefined;
  runId: string;
  recordedAt: string;
  projects: PlannedProject[];
}

const SHA = /^[0-9a-f]{40}$/;
const HASH = /^[0-9a-f]{64}$/;

const PlannedProjectSchema = z.object({
  name: z.string().min(1),
  dir: z.string().min(1),
  workspace: z.string().min(1),
  dependsOn: z.array(z.string()),
  planHash: z.string().regex(HASH).nullable(),
  error: z.string().optional(),
});

const PlanSetSchema = z.object({
  repo: z.string(),
  pr: z.number().int().positive(),
  headSha: z.string().regex(SHA),
  baseSha: z.string().regex(SHA),
  planned: z.literal('merge').optional(),
  runId: z.string(),
  recordedAt: z.string(),
  projects: z.array(PlannedProjectSchema),
});

const ScannerRunSchema = z.object({
  name: z.enum(['pregate', 'tfsec', 'checkov', 'opa', 'cost']),
  status: z.enum(['ok', 'not-run', 'failed']),
  version: z.string().optional(),
  durationMs: z.number(),
  reason: z.string().optional(),
  findings: z.array(FindingSchema),
});

const GateSchema = z.object({ planHash: z.string().regex(HASH), scanners: z.array(ScannerRunSchema) });

function toScannerRun(r: z.infer<typeof ScannerRunSchema>): ScannerRun {
  const { version, reason, findings, ...rest } = r;
  return {
    ...rest,
    findings: findings.map(toFinding),
    ...(version !== undefined ? { version } : {}),
    ...(reason !== undefined ? { reason } : {}),
  };
}

export { planSetKey };

export function gateKey(repo: string, pr: number, project: string, workspace: string, planHash: string): string {
  return `plan-gate:${repo}#${pr}:${project}/${workspace}:${planHash}`;
}

export function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export interface RecordPlansInput {
  repo: string;
  pr: number;
  headSha: string;
  baseSha: string;
  /** The head merged into the base was planned, not the head alone. */
  plannedAsMerge?: boolean;
  runId: string;
  /** One result per project the plan run covered (all of them, failed ones too). */
  results: ChecksResult[];
}

/**
 * Called by the plan stage after `runChecks` for every project of the PR: saves each plan file (its bytes are
 * checksummed against the hash the report shows), the gate's scanner runs, and the plan set. The newest plan set
 * is what an approval applies.
 */
export async function recordReviewedPlans(store: Store, input: RecordPlansInput): Promise<PlanSet> {
  if (!SHA.test(input.headSha) || !SHA.test(input.baseSha)) throw new Error('head and base must be full commit SHAs');
  const projects: PlannedProject[] = [];
  for (const result of input.results) {
    const p = result.project;
    const base = { name: p.name, dir: p.dir, workspace: p.workspace, dependsOn: [...p.dependsOn] };
    if (!result.plan) {
      const failed = result.stages.find((s) => s.status === 'failed');
      projects.push({ ...base, planHash: null, error: failed?.message ?? 'no plan was produced' });
      continue;
    }
    const bytes = await readFile(result.plan.file);
    const hash = sha256(bytes);
    if (hash !== result.plan.hash) {
      throw new Error(`plan file of ${p.name} changed after it was summarised (hash ${hash} ≠ ${result.plan.hash})`);
    }
    await store.savePlan({
      repo: input.repo,
      pr: input.pr,
      project: p.name,
      workspace: p.workspace,
      headSha: input.headSha,
      baseSha: input.baseSha,
      planHash: hash,
      bytes,
      summary: result.plan.summary,
      runId: input.runId,
    });
    await store.putKey(
      gateKey(input.repo, input.pr, p.name, p.workspace, hash),
      JSON.stringify({ planHash: hash, scanners: result.verdict.scanners }),
    );
    projects.push({ ...base, planHash: hash });
  }
  const set: PlanSet = {
    repo: input.repo,
    pr: input.pr,
    headSha: input.headSha,
    baseSha: input.baseSha,
    ...(input.plannedAsMerge ? { planned: 'merge' as const } : {}),
    runId: input.runId,
    recordedAt: new Date().toISOString(),
    projects,
  };
  await store.putKey(planSetKey(input.repo, input.pr), JSON.stringify(set));
  return set;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** The newest plan set of a PR, or undefined when it never planned (or the record is unreadable). */
export async function loadPlanSet(store: Store, repo: string, pr: number): Promise<PlanSet | undefined> {
  const raw = await store.getKey(planSetKey(repo, pr));
  if (raw === undefined) return undefined;
  const parsed = PlanSetSchema.safeParse(parseJson(raw));
  if (!parsed.success) return undefined;
  const projects = parsed.data.projects.map((p) => {
    const { error, ...rest } = p;
    return error !== undefined ? { ...rest, error } : rest;
  });
  return { ...parsed.data, projects };
}

/** The gate's scanner runs recorded for one plan hash, or undefined. */
export async function loadGate(
  store: Store,
  target: { repo: string; pr: number; project: string; workspace: string; planHash: string },
): Promise<ScannerRun[] | undefined> {
  const raw = await store.getKey(gateKey(target.repo, target.pr, target.project, target.workspace, target.planHash));
  if (raw === undefined) return undefined;
  const parsed = GateSchema.safeParse(parseJson(raw));
  if (!parsed.success || parsed.data.planHash !== target.planHash) return undefined;
  return parsed.data.scanners.map(toScannerRun);
}

export function projectOf(p: PlannedProject): Project {
  return { name: p.name, dir: p.dir, workspace: p.workspace, dependsOn: [...p.dependsOn] };
}

/** Metadata of the saved plan a plan set names for a project (no decryption). */
export async function findSavedPlan(
  store: Store,
  set: PlanSet,
  project: PlannedProject,
): Promise<SavedPlanRecord | undefined> {
  if (!project.planHash) return undefined;
  const plans = await store.listPlans({ repo: set.repo, pr: set.pr });
  return plans.find(
    (p) => p.project === project.name && p.workspace === project.workspace && p.planHash === project.planHash,
  );
}

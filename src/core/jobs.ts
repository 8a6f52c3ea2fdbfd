// The job a webhook handler enqueues and a worker runs. The payload crosses a process boundary (pg-boss, the jobs
// table), so the worker parses it with this schema instead of trusting it. It carries identifiers only: everything
// else (issue text, config, PR state) is read fresh by the worker, so a retried job never acts on stale data.
import { z } from 'zod';
import { DriftJobSchema } from './drift-job.js';

export const JOB_KIND_RUN = 'run';
export const JOB_KIND_CONFIG_CHECK = 'config-check';
export const JOB_KIND_INTAKE = 'intake';

const Repo = {
  installationId: z.number().int().positive(),
  owner: z.string().min(1).max(100),
  repo: z.string().min(1).max(100),
  defaultBranch: z.string().min(1).max(255),
};

export const RunJobSchema = z.object({
  type: z.literal(JOB_KIND_RUN),
  runId: z.string().min(1),
  ...Repo,
  kind: z.enum(['generate', 'revise', 'plan', 'apply']),
  /** The issue the run belongs to: runs are serialised per issue (a PR's runs too, via its issue marker). */
  issueNumber: z.number().int().positive(),
  prNumber: z.number().int().positive().optional(),
  /** Login of the person who asked (labelled, commented, pushed). */
  requester: z.string().min(1),
  /**
   * Why: the label, a command, a human push, an approving review (apply), or the app itself re-planning (a stale
   * plan at approval, a lock this PR waited for was released).
   */
  trigger: z.enum(['label', 'opened', 'command', 'human-push', 'approval', 'replan', 'autoplan', 'merge']),
  /** `/infra revise` text (already bounded by the parser; sanitised again before the prompt). */
  feedback: z.string().max(10_000).optional(),
  /** The comment that carried the command: the reply goes to its thread. */
  commentId: z.number().int().positive().optional(),
  /** `/infra plan <project>`. */
  project: z.string().max(64).optional(),
  /**
   * Plan a pull request as it will be merged, every project it affects (src/pipeline/pr-plan.ts): any PR, a
   * person's or a fork's, keyed by the PR's own number (`issueNumber` = `prNumber`).
   */
  pullRequestPlan: z.boolean().optional(),
  /**
   * `/infra revise` on a person's PR (same repository): the agent adds commits on top of their branch
   * (src/pipeline/pr-revise.ts), keyed by the PR's own number like its plans.
   */
  pullRequestRevise: z.boolean().optional(),
  /** `/infra plan a b`: only these projects (names or dirs) of the PR. */
  projects: z.array(z.string().min(1).max(64)).max(100).optional(),
  /** The approving review an apply run acts on (the worker reads everything else about it fresh). */
  review: z
    .object({
      id: z.number().int().positive(),
      login: z.string().min(1).max(100),
      userType: z.string().min(1).max(40),
      commitId: z.string().regex(/^[0-9a-f]{40}$/),
    })
    .optional(),
  /**
   * An apply asked for by `/infra apply [project…]` (apply.on: comment) or by the merge of the PR (apply.on: merge);
   * the worker reads everything else fresh, as for a review.
   */
  applyRequest: z
    .discriminatedUnion('via', [
      z.object({
        via: z.literal('comment'),
        commentId: z.number().int().positive(),
        login: z.string().min(1).max(100),
        userType: z.string().min(1).max(40),
        projects: z.array(z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/)).max(20),
      }),
      z.object({
        via: z.literal('merge'),
        login: z.string().min(1).max(100),
        userType: z.string().min(1).max(40),
        mergeCommitSha: z.string().regex(/^[0-9a-f]{40}$/),
      }),
    ])
    .optional(),
  /** Why the app re-plans (trigger 'replan'), shown in the PR. */
  reason: z.string().max(500).optional(),
  /** A drift issue's reconcile PR: `revert` (no code change, the plan is the change) or `code` (the agent accepts reality). */
  reconcile: z.enum(['code', 'revert']).optional(),
});
export type RunJob = z.infer<typeof RunJobSchema>;

export const ConfigCheckJobSchema = z.object({
  type: z.literal(JOB_KIND_CONFIG_CHECK),
  ...Repo,
  prNumber: z.number().int().positive(),
  headSha: z.string().regex(/^[0-9a-f]{40}$/),
});
export type ConfigCheckJob = z.infer<typeof ConfigCheckJobSchema>;

/**
 * A webhook the web side accepted (signature, cheap payload filters, delivery dedupe) and handed over without asking
 * GitHub anything: the worker reads the repo config, checks the sender's permission, reacts 👀 and starts the run or
 * answers the command. `payload` is the webhook's fields the app uses (already narrowed by the handler's schema);
 * the worker parses it again with the same schema, since it crossed a process boundary.
 */
export const IntakeJobSchema = z.object({
  type: z.literal(JOB_KIND_INTAKE),
  installationId: z.number().int().positive(),
  /** X-GitHub-Delivery: the idempotency key of the run the intake starts. */
  deliveryId: z.string().min(1).max(200),
  event: z.enum([
    'issues',
    'issue_comment',
    'pull_request.closed',
    'pull_request_review.not-app-pr',
    'pull_request.autoplan',
  ]),
  payload: z.record(z.string(), z.unknown()),
});
export type IntakeJob = z.infer<typeof IntakeJobSchema>;

export const JobPayloadSchema = z.discriminatedUnion('type', [
  RunJobSchema,
  ConfigCheckJobSchema,
  IntakeJobSchema,
  DriftJobSchema,
]);
export type JobPayload = z.infer<typeof JobPayloadSchema>;

/** `owner/repo#N`: the store's run key and the queue's serialisation key (one active run per issue). */
export function threadKey(owner: string, repo: string, issueNumber: number): string {
  return `${owner}/${repo}#${issueNumber}`;
}

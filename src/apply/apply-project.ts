// Step 5 for one project: the saved plan bytes from the store (bound to the head and base the decision checked, and
// checksummed again), init, then the point of no return — the plan hash is claimed and the run marked "applying"
// BEFORE terraform may change anything — then `terraform apply <planfile>` and the record of what happened. A plan
// hash is applied at most once: its claim is never cleared, so a crash mid-apply refuses every later attempt.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runGuard } from '../policy/scanners/pregate.js';
import { resolveProjectDir } from '../stages/checks.js';
import { enterStage } from '../stages/run-state.js';
import { type Terraform, TerraformError } from '../terraform/engine.js';
import { Redactor, redact } from '../util/redact.js';
import type { ProjectApplyReport } from './messages.js';
import { type PlannedProject, type PlanSet, sha256 } from './plan-record.js';
import { type ApplyDeps, type ApplyRequest, type ApplyTarget, actorOf, applyClaimKey, type Failure } from './types.js';

/** Run events and the audit log keep this much of terraform's output; the PR comments get all of it (split). */
export const EVENT_OUTPUT_CHARS = 4_000;

export interface ProjectStepResult {
  report?: Partial<ProjectApplyReport>;
  failure?: Failure;
}

export async function applyProject(
  deps: ApplyDeps,
  a: {
    req: ApplyRequest;
    runId: string;
    target: ApplyTarget;
    set: PlanSet;
    project: PlannedProject;
    checkoutRoot: string;
    planDir: string;
    tf: Terraform;
  },
): Promise<ProjectStepResult> {
  const { store, port } = deps;
  const repo = port.repo;
  const { project: p, runId } = a;
  const sig = deps.signal ? { signal: deps.signal } : {};
  if (p.planHash === null) return { failure: { error: `${p.name} has no plan`, pointOfNoReturn: false } };
  const planHash = p.planHash;

  // The saved bytes, bound to this head and base, checksummed again here: what runs is what was reviewed.
  const saved = await store.getPlan({ repo, pr: a.req.pr, project: p.name, workspace: p.workspace, planHash });
  if (!saved)
    return {
      failure: { error: `the saved plan of ${p.name} (${planHash}) is gone from the store`, pointOfNoReturn: false },
    };
  if (saved.headSha !== a.target.headSha || saved.baseSha !== a.target.baseSha || sha256(saved.bytes) !== planHash) {
    return {
      failure: {
        error: `the saved plan of ${p.name} does not match the reviewed head, base and hash`,
        pointOfNoReturn: false,
      },
    };
  }
  const counts = {
    add: saved.summary.counts.add,
    change: saved.summary.counts.change,
    destroy: saved.summary.counts.destroy,
    replace: saved.summary.counts.replace,
  };
  const dir = await resolveProjectDir(a.checkoutRoot, p.dir);
  // Literal secrets in the code (SEC-SECRET-001, e.g. when a repo lowered its level) are masked in the apply output
  // as they were in the plan output.
  const masker = new Redactor();
  for (const secret of (await runGuard(dir, a.checkoutRoot, a.req.config.policy)).secrets) masker.add(secret);
  const planFile = join(a.planDir, `${p.name}-${p.workspace}.tfplan`);
  await writeFile(planFile, saved.bytes, { mode: 0o600 });

  await enterStage(store, runId, `init:${p.name}`);
  try {
    await a.tf.init(dir, sig);
    if (p.workspace !== 'default') await a.tf.selectWorkspace(dir, p.workspace, sig);
  } catch (err) {
    const error = redact(err instanceof Error ? err.message : String(err));
    await store.addRunEvent({
      runId,
      stage: `init:${p.name}`,
      status: 'failed',
      message: error.slice(0, EVENT_OUTPUT_CHARS),
    });
    return { report: { status: 'failed', counts, error }, failure: { error, pointOfNoReturn: false } };
  }

  // Point of no return: claim the plan hash and say "applying" BEFORE terraform may change anything.
  const claimKey = applyClaimKey(repo, a.req.pr, p.name, p.workspace, planHash);
  const claim = await store.putKeyIfAbsent(claimKey, `applying:${runId}`);
  if (!claim.inserted) {
    const error = `this plan of ${p.name} was already claimed (${claim.value}); it is never applied twice`;
    return { report: { status: 'skipped', counts, error }, failure: { error, pointOfNoReturn: false } };
  }
  // The event first: projects apply in parallel and another one's stage may overwrite this one's, but recovery also
  // reads the events, so a crash from here on is seen as "terraform may have run".
  await store.addRunEvent({ runId, stage: `applying:${p.name}`, status: 'started', message: `plan ${planHash}` });
  await enterStage(store, runId, `applying:${p.name}`);
  await store.audit({
    actor: actorOf(a.req).login,
    action: 'apply.started',
    repo,
    target: `#${a.req.pr}`,
    details: {
      runId,
      project: p.name,
      workspace: p.workspace,
      planHash,
      headSha: a.target.headSha,
      baseSha: a.target.baseSha,
    },
  });

  const started = Date.now();
  let output: string;
  try {
    ({ output } = await a.tf.apply(dir, planFile, sig));
  } catch (err) {
    // Terraform said no (or died): record it. If recording fails, the claim stays "applying" and a human decides.
    const error = masker.redact(
      redact(
        err instanceof TerraformError
          ? `${err.message}${err.stderrTail && !err.message.includes(err.stderrTail) ? `\n\n${err.stderrTail}` : ''}`
          : err instanceof Error
            ? err.message
            : String(err),
      ),
    );
    await store.putKey(claimKey, `failed:${runId}`);
    await store.addRunEvent({
      runId,
      stage: `applying:${p.name}`,
      status: 'failed',
      durationMs: Date.now() - started,
      message: error.slice(0, EVENT_OUTPUT_CHARS),
    });
    await store.audit({
      actor: 'infra-agent',
      action: 'apply.failed',
      repo,
      target: `#${a.req.pr}`,
      details: { runId, project: p.name, workspace: p.workspace, planHash, error: error.slice(0, EVENT_OUTPUT_CHARS) },
    });
    return { report: { status: 'failed', counts, error }, failure: { error, pointOfNoReturn: true } };
  }
  // Terraform succeeded. Bookkeeping errors from here are not terraform's: they propagate, the claim stays
  // "applying", and the run becomes needs-human (never "failed", which would invite a retry of an applied plan).
  const clean = masker.redact(redact(output));
  const durationMs = Date.now() - started;
  await store.putKey(claimKey, `applied:${runId}`);
  await store.addRunEvent({
    runId,
    stage: `applying:${p.name}`,
    status: 'ok',
    durationMs,
    message: clean.slice(-EVENT_OUTPUT_CHARS),
  });
  await store.audit({
    actor: actorOf(a.req).login,
    action: 'apply.succeeded',
    repo,
    target: `#${a.req.pr}`,
    details: { runId, project: p.name, workspace: p.workspace, planHash, counts, durationMs },
  });
  return { report: { status: 'applied', counts, durationMs, output: clean } };
}

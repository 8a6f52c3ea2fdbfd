// The worker's half of the webhook handlers. The web side only verified the signature, filtered the payload, deduped
// the delivery and enqueued an intake job; here, off the ack path, come the GitHub round trips: the repo config
// (invalid → the comment saying which key), the trigger label against config, the sender's permission (unauthorised
// → a polite reply, nothing runs), the 👀 reaction, and then the run is enqueued on the issue's key or the command
// answered. Replies and runs are what the handlers did before; only where the checks run moved.
import type { Logger } from 'pino';
import { handleOverrideCommand, handlePullRequestClosed, handleUnlockCommand } from '../apply/handlers.js';
import { renderRefusal } from '../apply/messages.js';
import { loadRepoConfig } from '../config/load.js';
import type { GitHubClient } from '../core/github.js';
import { isBot } from '../core/github.js';
import type { IntakeJob } from '../core/jobs.js';
import { handleDriftCommand } from '../drift/commands.js';
import { OctokitApplyPort } from '../github/apply-port.js';
import type { AppDeps } from '../github/deps.js';
import { enqueuePullRequestPlan, enqueueRun } from '../github/enqueue.js';
import { checkPermission } from '../github/permissions.js';
import {
  invalidConfigReply,
  notOwnPullRequestReply,
  onPullRequestOnlyReply,
  queuedBehindReply,
  reviseOnIssueReply,
  unauthorisedReply,
  unknownCommandReply,
} from '../github/replies.js';
import { requestPlanRun } from '../github/request-plan.js';
import { ownedPullRequest } from '../store/ownership.js';
import { applyThread, intakeApplyCommand, intakeMergeApply } from './apply-intake.js';
import { intakeAutoplan } from './autoplan.js';
import { parseCommand, renderHelp } from './commands.js';
import { refreshPolicyReport } from './override-report.js';
import { IssueCommentEvent, IssuesEvent, PullRequestEvent, PullRequestReviewEvent } from './payloads.js';
import { intakePersonRevise } from './revise-intake.js';

export interface IntakeDeps extends AppDeps {
  log: Logger;
}

export async function runIntake(job: IntakeJob, octokit: GitHubClient, deps: IntakeDeps): Promise<void> {
  switch (job.event) {
    case 'issues':
      return intakeIssue(IssuesEvent.parse(job.payload), job.deliveryId, octokit, deps);
    case 'issue_comment':
      return intakeComment(IssueCommentEvent.parse(job.payload), job.deliveryId, octokit, deps);
    case 'pull_request.closed':
      return intakeClosed(PullRequestEvent.parse(job.payload), job.deliveryId, octokit, deps);
    case 'pull_request_review.not-app-pr':
      return intakeReviewNotOurs(PullRequestReviewEvent.parse(job.payload), octokit);
    case 'pull_request.autoplan':
      return intakeAutoplan(PullRequestEvent.parse(job.payload), job.deliveryId, octokit, deps);
  }
}

/** The queued-behind note is a courtesy: once the run is enqueued, failing to post it must not retry the intake. */
async function noteQueuedBehind(post: () => Promise<unknown>, log: Logger): Promise<void> {
  await post().catch((err: unknown) =>
    log.warn({ err: err instanceof Error ? err.message : String(err) }, 'queued-behind note not posted'),
  );
}

async function intakeIssue(
  event: ReturnType<typeof IssuesEvent.parse>,
  deliveryId: string,
  octokit: GitHubClient,
  deps: IntakeDeps,
): Promise<void> {
  const repo = { owner: event.repository.owner.login, repo: event.repository.name };
  const issue_number = event.issue.number;
  const loaded = await loadRepoConfig(octokit, repo, event.repository.default_branch);
  if (!loaded.ok) {
    // An invalid file means we cannot know the trigger label: say so rather than stay silent.
    await octokit.rest.issues.createComment({ ...repo, issue_number, body: invalidConfigReply(loaded.message) });
    return;
  }
  const { trigger } = loaded.config;
  const carriesLabel =
    event.action === 'labeled'
      ? event.label?.name === trigger.label
      : event.issue.labels.some((l) => l.name === trigger.label);
  // Any other label: dropped here, no run record, no comment.
  if (!carriesLabel) return;

  const who = event.sender.login;
  const permission = await checkPermission(octokit, repo, who, trigger.required_permission);
  if (!permission.allowed) {
    deps.log.info({ who, actual: permission.actual }, 'trigger refused: permission');
    await octokit.rest.issues.createComment({
      ...repo,
      issue_number,
      body: unauthorisedReply(
        who,
        trigger.required_permission,
        `Starting infra-agent with the \`${trigger.label}\` label`,
      ),
    });
    return;
  }

  // Who asked, as GitHub says (never from the text): they cannot approve the apply of what they asked for.
  const full = `${repo.owner}/${repo.repo}`;
  const author = event.issue.user;
  if (author && !isBot(author)) {
    await deps.store.addRequester({ repo: full, issue: issue_number, login: author.login, reason: 'issue-author' });
  }
  await deps.store.addRequester({ repo: full, issue: issue_number, login: who, reason: 'labeller' });
  await octokit.rest.reactions.createForIssue({ ...repo, issue_number, content: 'eyes' });
  const queued = await enqueueRun(deps, deliveryId, {
    installationId: event.installation.id,
    ...repo,
    defaultBranch: event.repository.default_branch,
    kind: 'generate',
    issueNumber: issue_number,
    requester: who,
    trigger: event.action === 'opened' ? 'opened' : 'label',
  });
  const waitsFor = queued.waitsFor;
  if (waitsFor) {
    await noteQueuedBehind(
      () =>
        octokit.rest.issues.createComment({ ...repo, issue_number, body: queuedBehindReply('generate', waitsFor.id) }),
      deps.log,
    );
  }
  deps.log.info({ runId: queued.run.id, issue: issue_number }, 'generate run enqueued');
}

async function intakeComment(
  event: ReturnType<typeof IssueCommentEvent.parse>,
  deliveryId: string,
  octokit: GitHubClient,
  deps: IntakeDeps,
): Promise<void> {
  const command = parseCommand(event.comment.body ?? '');
  if (!command) return;
  const repo = { owner: event.repository.owner.login, repo: event.repository.name };
  const issue_number = event.issue.number;
  const reply = (body: string) => octokit.rest.issues.createComment({ ...repo, issue_number, body });

  const loaded = await loadRepoConfig(octokit, repo, event.repository.default_branch);
  if (!loaded.ok) {
    await reply(invalidConfigReply(loaded.message));
    return;
  }
  const required = loaded.config.trigger.required_permission;
  const help = renderHelp({ requiredPermission: required });
  if (command.kind === 'help') {
    await reply(help);
    return;
  }
  if (command.kind === 'unknown') {
    await reply(unknownCommandReply(command.word, help));
    return;
  }

  const who = event.sender.login;
  const permission = await checkPermission(octokit, repo, who, required);
  if (!permission.allowed) {
    await reply(unauthorisedReply(who, required, `\`/infra ${command.kind}\``));
    return;
  }
  const isPullRequest = event.issue.pull_request !== undefined;
  if (command.kind === 'drift' || command.kind === 'reconcile') {
    await handleDriftCommand(command, {
      deps,
      octokit,
      repo,
      installationId: event.installation.id,
      defaultBranch: event.repository.default_branch,
      deliveryId,
      config: loaded.config,
      issueNumber: issue_number,
      isPullRequest,
      commentId: event.comment.id,
      sender: who,
      reply,
    });
    return;
  }
  if (command.kind === 'apply') {
    await intakeApplyCommand({
      deps,
      event,
      deliveryId,
      projects: command.projects,
      reply,
      react: () =>
        octokit.rest.reactions.createForIssueComment({ ...repo, comment_id: event.comment.id, content: 'eyes' }),
    });
    return;
  }
  if (command.kind === 'unlock' || command.kind === 'override') {
    if (!isPullRequest) {
      await reply(onPullRequestOnlyReply(command.kind));
      return;
    }
    if (event.issue.state !== 'open' && command.kind === 'override') return;
    const owned = await ownedPullRequest(deps.store, `${repo.owner}/${repo.repo}`, event.issue, deps.botLogin);
    // The App's PR, or a person's PR the App planned (its locks and plans are recorded the same way).
    if (!owned && (await applyThread(deps, repo, event.issue)) === undefined) {
      await reply(notOwnPullRequestReply());
      return;
    }
    const port = new OctokitApplyPort(octokit, repo, deps.store, `comment-${event.comment.id}`);
    if (command.kind === 'unlock') {
      await handleUnlockCommand(
        {
          store: deps.store,
          port,
          requestPlan: async (req) => {
            await requestPlanRun(
              deps,
              octokit,
              { installationId: event.installation.id, ...repo, defaultBranch: event.repository.default_branch },
              { pr: req.pr, reason: req.reason, requester: who, idempotencyId: `${deliveryId}:unlock:${req.pr}` },
            );
          },
        },
        { pr: issue_number, login: who, ...(command.project ? { project: command.project } : {}) },
      );
    } else {
      const outcome = await handleOverrideCommand(
        { store: deps.store, port },
        { pr: issue_number, login: who, ruleId: command.ruleId, reason: command.reason, config: loaded.config },
      );
      // A person's PR body is theirs: the override shows in the App's plan comment at the next plan.
      if (outcome.ok && owned) {
        await refreshPolicyReport(octokit, deps.store, repo, issue_number, loaded.config).catch((err) =>
          deps.log.warn({ err: err instanceof Error ? err.message : String(err) }, 'policy report not refreshed'),
        );
      }
    }
    await octokit.rest.reactions.createForIssueComment({ ...repo, comment_id: event.comment.id, content: 'eyes' });
    return;
  }

  const common = {
    installationId: event.installation.id,
    ...repo,
    defaultBranch: event.repository.default_branch,
    requester: who,
    trigger: 'command' as const,
    commentId: event.comment.id,
  };
  let run: Parameters<typeof enqueueRun>[2];
  if (!isPullRequest) {
    // On an issue: `/infra plan` retries the request (the worker finds an existing PR instead of opening another).
    if (command.kind === 'revise') {
      await reply(reviseOnIssueReply());
      return;
    }
    run = {
      ...common,
      kind: 'generate',
      issueNumber: issue_number,
      ...(command.project ? { project: command.project } : {}),
    };
  } else {
    if (event.issue.state !== 'open') return;
    const owned = await ownedPullRequest(deps.store, `${repo.owner}/${repo.repo}`, event.issue, deps.botLogin);
    if (!owned && command.kind === 'plan') {
      // A person's PR, a fork's too: whoever may comment commands has read it and asks for its plan.
      await octokit.rest.reactions.createForIssueComment({ ...repo, comment_id: event.comment.id, content: 'eyes' });
      await enqueuePullRequestPlan(deps, {
        ...common,
        pr: issue_number,
        trigger: 'command',
        idempotencyId: deliveryId,
        ...(command.project ? { projects: command.projects ?? [command.project] } : {}),
      });
      return;
    }
    if (!owned && command.kind === 'revise') {
      // A person's PR: commits on top of their branch (never a fork's), planned again like any PR.
      await intakePersonRevise({ deps, octokit, event, deliveryId, feedback: command.feedback, reply });
      return;
    }
    if (!owned) {
      await reply(notOwnPullRequestReply());
      return;
    }
    run = {
      ...common,
      kind: command.kind,
      issueNumber: owned.issueNumber,
      prNumber: issue_number,
      ...(command.kind === 'revise' ? { feedback: command.feedback } : {}),
      ...(command.kind === 'plan' && command.project ? { project: command.project } : {}),
    };
  }
  // Asking for a change (a generate from the issue, a revise on the PR) makes one of its requesters.
  if (run.kind === 'generate' || run.kind === 'revise') {
    await deps.store.addRequester({
      repo: `${repo.owner}/${repo.repo}`,
      issue: run.issueNumber,
      login: who,
      reason: 'command',
      detail: `${run.kind}:${event.comment.id}`,
    });
  }
  // 👀 before the run exists: if GitHub fails here the intake is retried with no run record left behind.
  await octokit.rest.reactions.createForIssueComment({ ...repo, comment_id: event.comment.id, content: 'eyes' });
  const queued = await enqueueRun(deps, deliveryId, run);
  const waitsFor = queued.waitsFor;
  if (waitsFor) await noteQueuedBehind(() => reply(queuedBehindReply(command.kind, waitsFor.id)), deps.log);
  deps.log.info({ runId: queued.run.id, kind: command.kind }, 'command run enqueued');
}

async function intakeClosed(
  event: ReturnType<typeof PullRequestEvent.parse>,
  deliveryId: string,
  octokit: GitHubClient,
  deps: IntakeDeps,
): Promise<void> {
  // A repo that applies on merge: the merged PR's apply run holds its locks and releases them when done.
  if (await intakeMergeApply(deps, octokit, event, deliveryId)) {
    deps.log.info({ pr: event.pull_request.number }, 'merged: apply run enqueued');
    return;
  }
  const repo = { owner: event.repository.owner.login, repo: event.repository.name };
  const pr = event.pull_request.number;
  const planContext = {
    installationId: event.installation.id,
    ...repo,
    defaultBranch: event.repository.default_branch,
  };
  const { waiters } = await handlePullRequestClosed(
    {
      store: deps.store,
      repo: `${repo.owner}/${repo.repo}`,
      requestPlan: async (req) => {
        await requestPlanRun(deps, octokit, planContext, {
          pr: req.pr,
          reason: req.reason,
          requester: event.sender.login,
          idempotencyId: `${deliveryId}:lock-freed:${req.pr}`,
        });
      },
    },
    { pr, merged: event.pull_request.merged === true, actor: event.sender.login },
  );
  if (waiters.length > 0) deps.log.info({ pr, waiters: waiters.map((w) => w.pr) }, 'locks released: waiters queued');
}

/** An approval on a PR that carries our markers but was not opened by the app (a copied body): say so, apply nothing. */
async function intakeReviewNotOurs(
  event: ReturnType<typeof PullRequestReviewEvent.parse>,
  octokit: GitHubClient,
): Promise<void> {
  const reviewer = event.review.user;
  if (!reviewer) return;
  await octokit.rest.issues.createComment({
    owner: event.repository.owner.login,
    repo: event.repository.name,
    issue_number: event.pull_request.number,
    body: renderRefusal(reviewer.login, [
      { code: 'not-app-pr', message: 'this pull request was not opened by infra-agent, so it has no reviewed plan' },
    ]),
  });
}

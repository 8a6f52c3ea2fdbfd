// Check runs on the PR head (`infra-agent/plan`, `infra-agent/policy`, `infra-agent/config`). GitHub takes at most
// 50 annotations per request, so the first batch goes with the create and the rest with updates. Each check run is
// named by an idempotency key (run + name + SHA), so a retried stage updates rather than adds.
import { createHash } from 'node:crypto';
import { CREATE_RETRY, type GitHubClient, type RepoRef } from '../core/github.js';
import { sideEffectOnce } from '../store/idempotency.js';
import type { Store } from '../store/types.js';

export interface Annotation {
  path: string;
  start_line: number;
  end_line: number;
  annotation_level: 'notice' | 'warning' | 'failure';
  message: string;
  title?: string;
}

export interface CheckRunInput {
  name: string;
  headSha: string;
  conclusion: 'success' | 'failure' | 'neutral' | 'action_required';
  title: string;
  summary: string;
  text?: string;
  annotations: Annotation[];
  detailsUrl?: string;
  /** Names the check run in the idempotency store (e.g. the run id). */
  key: string;
}

export const ANNOTATIONS_PER_REQUEST = 50;
const OUTPUT_LIMIT = 65_535;

function cut(text: string, max = OUTPUT_LIMIT - 100): string {
  return text.length <= max ? text : `${text.slice(0, max)}\n[… cut]`;
}

export function batches<T>(items: T[], size = ANNOTATIONS_PER_REQUEST): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** The check run's natural key on GitHub, beside name + head SHA: which execution made it (bounded, no secrets). */
export function checkRunExternalId(key: string): string {
  return `infra-agent:${createHash('sha256').update(key).digest('hex').slice(0, 32)}`;
}

/** A check run this App made for (name, head SHA, external id), e.g. one whose create answer was lost. */
export async function findCheckRun(
  octokit: GitHubClient,
  repo: RepoRef,
  want: { name: string; headSha: string; externalId: string },
): Promise<string | undefined> {
  const runs = await octokit.paginate(octokit.rest.checks.listForRef, {
    ...repo,
    ref: want.headSha,
    check_name: want.name,
    filter: 'all',
    per_page: 100,
  });
  const mine = runs.find((r) => r.external_id === want.externalId && r.head_sha === want.headSha);
  return mine ? String(mine.id) : undefined;
}

/** Create (once) and complete a check run with all its annotations; returns its id and URL. */
export async function publishCheckRun(
  octokit: GitHubClient,
  store: Store,
  repo: RepoRef,
  input: CheckRunInput,
): Promise<{ id: number; url: string }> {
  const [first = [], ...rest] = batches(input.annotations);
  const output = {
    title: cut(input.title, 250),
    summary: cut(input.summary),
    ...(input.text ? { text: cut(input.text) } : {}),
  };
  let url = '';
  const key = `check-run:${repo.owner}/${repo.repo}:${input.name}:${input.headSha}:${input.key}`;
  const externalId = checkRunExternalId(key);
  const created = await sideEffectOnce(store, key, {
    find: () => findCheckRun(octokit, repo, { name: input.name, headSha: input.headSha, externalId }),
    retry: CREATE_RETRY,
    create: async () => {
      const res = await octokit.rest.checks.create({
        ...repo,
        name: input.name,
        head_sha: input.headSha,
        external_id: externalId,
        status: 'completed',
        conclusion: input.conclusion,
        completed_at: new Date().toISOString(),
        ...(input.detailsUrl ? { details_url: input.detailsUrl } : {}),
        output: { ...output, annotations: first },
      });
      url = res.data.html_url ?? '';
      for (const batch of rest) {
        await octokit.rest.checks.update({
          ...repo,
          check_run_id: res.data.id,
          output: { ...output, annotations: batch },
        });
      }
      return String(res.data.id);
    },
  });
  if (!url) {
    const res = await octokit.rest.checks.get({ ...repo, check_run_id: Number(created.value) });
    url = res.data.html_url ?? '';
  }
  return { id: Number(created.value), url };
}

// Check runs: create, update, read and list them on a commit, annotations included.
// Handlers keyed by the operationId of GitHub's REST description (see routes.ts).
import { z } from 'zod';
import { resolveCommit } from '../bare-repo.js';
import { checkRunObject, nodeId } from './objects.js';
import type { Json } from './openapi.js';
import {
  applyCheckRun,
  CheckRunBody,
  findCheckRun,
  type Handler,
  HttpError,
  keyOf,
  now,
  paginate,
  parse,
  repoOf,
} from './route-kit.js';
import type { CheckRunRecord } from './state.js';

export const CHECK_HANDLERS: Record<string, Handler> = {
  // --- Checks ---
  'checks/create': async (input) => {
    const repo = repoOf(input);
    const b = parse(CheckRunBody.extend({ name: z.string(), head_sha: z.string() }), input.body);
    if (!(await resolveCommit(repo.remotePath, b.head_sha)))
      throw new HttpError(422, 'No commit found for SHA: ' + b.head_sha, [], 'spec');
    const id = input.nextId();
    const c: CheckRunRecord = {
      repo: keyOf(repo),
      id,
      nodeId: nodeId('CR', id),
      name: b.name,
      headSha: b.head_sha,
      status: 'queued',
      conclusion: null,
      startedAt: now(),
      completedAt: null,
      detailsUrl: null,
      externalId: null,
      output: { title: null, summary: null, text: null },
      annotations: [],
      updates: 0,
    };
    applyCheckRun(c, b);
    input.ctx.state.checkRuns.push(c);
    return { status: 201, body: await checkRunObject(input.ctx, c) };
  },
  'checks/update': async (input) => {
    const c = findCheckRun(input);
    applyCheckRun(c, parse(CheckRunBody, input.body));
    c.updates += 1;
    return { status: 200, body: await checkRunObject(input.ctx, c) };
  },
  'checks/get': async (input) => ({ status: 200, body: await checkRunObject(input.ctx, findCheckRun(input)) }),
  'checks/list-for-ref': async (input) => {
    const repo = repoOf(input);
    const ref = input.params['ref'] ?? '';
    const sha =
      (/^[0-9a-f]{40}$/.test(ref) ? ref : undefined) ??
      (await resolveCommit(repo.remotePath, `refs/heads/${ref}`)) ??
      (await resolveCommit(repo.remotePath, ref));
    if (!sha) throw new HttpError(422, `No commit found for SHA: ${ref}`);
    const name = input.query.get('check_name');
    const status = input.query.get('status');
    const filter = input.query.get('filter') ?? 'latest';
    let runs = input.ctx.state.checkRuns.filter(
      (c) =>
        c.repo === keyOf(repo) && c.headSha === sha && (!name || c.name === name) && (!status || c.status === status),
    );
    if (filter === 'latest') {
      const latest = new Map<string, CheckRunRecord>();
      for (const c of runs) latest.set(c.name, c);
      runs = [...latest.values()];
    }
    runs = [...runs].sort((a, b) => b.id - a.id);
    const page = paginate(input, []);
    const perPage = Math.min(100, Math.max(1, Number(input.query.get('per_page') ?? 30) || 30));
    const pageNo = Math.max(1, Number(input.query.get('page') ?? 1) || 1);
    const slice = runs.slice((pageNo - 1) * perPage, pageNo * perPage);
    const objects: Json[] = [];
    for (const c of slice) objects.push(await checkRunObject(input.ctx, c));
    return { status: 200, body: { total_count: runs.length, check_runs: objects }, headers: page.headers ?? {} };
  },
};

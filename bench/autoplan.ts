// Planning pull requests people write (#14), through the real App server in this process, the GitHub stand-in, a git
// remote on disk and REAL terraform and scanners (the default checks: fmt, guard, init, validate, plan, tfsec,
// checkov, OPA). Two rows, each beside its baseline from the same run:
// (1) a PR touching 10 projects: webhook → the comment says all 10 are planned; baseline 10 × the same path for a PR
//     touching one project (what planning them one PR at a time costs);
// (2) a PR touching one project: webhook → first comment (the progress table) and → final comment; baseline one
//     checks pass (runChecks) on the same project called directly, the work nobody can skip.
// `npx tsx bench/autoplan.ts`; writes bench/results/autoplan.json.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createGitRemote, identityFor } from '../devtools/git-remote.js';
import { standinWebhooks, startGitHubStandin } from '../devtools/github-standin/index.js';
import { createWebhookSender } from '../devtools/webhooks.js';
import { defaultRepoConfig } from '../src/config/schema.js';
import { createLogger } from '../src/observability/logger.js';
import { startAppServer, WEBHOOK_PATH } from '../src/server/server.js';
import { runChecks } from '../src/stages/checks.js';
import { describeMachine, type Machine, round, sleep } from './lib/stats.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const OWNER = 'acme';
const REPO = 'platform';
const PROJECTS = 10;
const BASELINE_RUNS = 3;

const stack = (i: number, v: string) =>
  Array.from(
    { length: 5 },
    (_, r) => `resource "terraform_data" "s${i}_r${r}" {\n  input = { version = "${v}", index = ${r} }\n}\n`,
  ).join('\n');

export interface AutoplanBenchResult {
  method: string;
  projects: number;
  /** Webhook → "10 project(s) planned" in the comment. */
  manyMs: number;
  /** Webhook → the one-project PR's final comment, per run. */
  oneMs: number[];
  oneMedianMs: number;
  /** Webhook → the one-project PR's first comment (the progress table), per run. */
  firstCommentMs: number[];
  firstCommentMedianMs: number;
  /** One runChecks pass on the same project, called directly, per run. */
  checksMs: number[];
  checksMedianMs: number;
  ratioManyToSerial: number;
  ratioOneToChecks: number;
  loadAverageAtStart: number[];
  machine: Machine;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? (s[Math.floor((s.length - 1) / 2)] ?? 0) : 0;
};

export async function benchAutoplan(): Promise<AutoplanBenchResult> {
  const loadAverageAtStart = loadavg().map((x) => round(x, 2));
  const files: Record<string, string> = {};
  for (let i = 0; i < PROJECTS; i++) files[`stacks/s${i}/main.tf`] = stack(i, 'v1');
  const standin = await startGitHubStandin();
  const remote = await createGitRemote({ files, owner: OWNER, repo: REPO });
  standin.addInstallation({ id: 7, account: OWNER, accountType: 'Organization' });
  standin.addRepo({
    owner: OWNER,
    name: REPO,
    remotePath: remote.path,
    defaultBranch: remote.defaultBranch,
    installationId: 7,
  });
  standin.setPermission(OWNER, REPO, 'mona', 'write');
  const secret = 'bench-autoplan-secret';
  const server = await startAppServer({
    appId: String(standin.app.id),
    privateKey: standin.app.privateKey ?? '',
    webhookSecret: secret,
    githubApiUrl: standin.url,
    role: 'all',
    githubThrottle: false,
    port: 0,
    host: '127.0.0.1',
    dataDir: 'memory://',
    planKey: 'a'.repeat(64),
    gitUrlTemplate: remote.urlTemplate,
    log: createLogger({ level: 'fatal' }),
  });
  const sender = createWebhookSender(`${server.url}${WEBHOOK_PATH}`, secret, standin.app.id);
  let prCount = 0;
  const comment = (n: number) => standin.comments(OWNER, REPO, n)[0];

  /** Close a PR so its projects' locks free for the next one. */
  const closePr = async (n: number) => {
    const record = standin.pull(OWNER, REPO, n);
    if (record) record.state = 'closed';
    const hook = await standinWebhooks(standin).pullRequestClosed(OWNER, REPO, n, 'mona');
    await sender.send(hook.event, hook.payload);
    while ((await server.runtime.store.listLocks({ repo: `${OWNER}/${REPO}`, pr: n })).length > 0) await sleep(50);
  };

  /** Open a PR changing these stacks; ms from the webhook to the first comment and to "N project(s) planned". */
  const timePr = async (stacks: number[]): Promise<{ first: number; done: number }> => {
    const branch = `change-${++prCount}`;
    const change: Record<string, string> = {};
    for (const i of stacks) change[`stacks/s${i}/main.tf`] = stack(i, `v${prCount + 1}`);
    await remote.commitFiles(branch, change, branch, { from: 'main', author: identityFor('mona') });
    const pr = await standin.addPullRequest({ owner: OWNER, repo: REPO, head: branch, title: branch, user: 'mona' });
    const hook = await standinWebhooks(standin).pullRequestOpened(OWNER, REPO, pr.number);
    const t0 = performance.now();
    await sender.send(hook.event, hook.payload);
    let first = 0;
    for (;;) {
      const c = comment(pr.number);
      if (c && !first) first = performance.now() - t0;
      if (c?.body.includes(`${stacks.length} project(s) planned`)) {
        const done = performance.now() - t0;
        await closePr(pr.number);
        return { first, done };
      }
      if (performance.now() - t0 > 900_000) throw new Error(`PR #${pr.number} was not planned in 15 minutes`);
      await sleep(50);
    }
  };

  try {
    // Warm-up (untimed): the first plan pays for loading the scanners' caches and the store's first writes.
    await timePr([0]);
    const many = await timePr(Array.from({ length: PROJECTS }, (_, i) => i));
    const one: number[] = [];
    const first: number[] = [];
    const checks: number[] = [];
    for (let k = 0; k < BASELINE_RUNS; k++) {
      const t = await timePr([k + 1]);
      one.push(Math.round(t.done));
      first.push(Math.round(t.first));
      checks.push(Math.round(await checksAlone(files, k + 1)));
    }
    const oneMedianMs = median(one);
    const checksMedianMs = median(checks);
    return {
      method:
        'In-process App server (role all, embedded store, worker concurrency 2, autoplan.max_parallel 4), GitHub stand-in, git remote on disk, real terraform + tfsec + checkov + OPA. One untimed warm-up PR, then one PR touching 10 projects, then 3 PRs touching one project each, each followed by one direct runChecks on that project.',
      projects: PROJECTS,
      manyMs: Math.round(many.done),
      oneMs: one,
      oneMedianMs,
      firstCommentMs: first,
      firstCommentMedianMs: median(first),
      checksMs: checks,
      checksMedianMs,
      ratioManyToSerial: round(many.done / (PROJECTS * oneMedianMs), 2),
      ratioOneToChecks: round(oneMedianMs / checksMedianMs, 2),
      loadAverageAtStart,
      machine: describeMachine(),
    };
  } finally {
    await server.close();
    await standin.close();
    await remote.close();
  }
}

const sec = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/** The two rows of `npm run bench` (bench/run.ts's table shape). */
export function autoplanRows(r: AutoplanBenchResult) {
  return [
    {
      figure: `Autoplan: one PR touching ${r.projects} projects, webhook → all ${r.projects} planned (max_parallel 4, 2 cores)`,
      ours: sec(r.manyMs),
      baseline: `${r.projects} × one project's PR (p50 ${sec(r.oneMedianMs)}): ${sec(r.projects * r.oneMedianMs)}`,
      ratio: `${r.ratioManyToSerial}`,
      note: `one clone, index and comment for all; plans 4 at a time, bounded by 2 cores (terraform + tfsec + checkov + OPA per project); load average at start ${r.loadAverageAtStart.join(' / ')}`,
    },
    {
      figure: "Autoplan: a person's PR touching one project, webhook → plan comment",
      ours: `p50 ${sec(r.oneMedianMs)} (first comment, the progress table: p50 ${sec(r.firstCommentMedianMs)})`,
      baseline: `one checks pass on the same project, called directly: p50 ${sec(r.checksMedianMs)}`,
      ratio: `${r.ratioOneToChecks}`,
      note: 'also: intake (config, permission), clone + merge of head into base, index, locks, recording the plan, the check run and comment writes (stand-in, unthrottled)',
    },
  ];
}

/** One checks pass on a fresh copy of the project, called directly: the terraform + scanner work of one plan. */
async function checksAlone(files: Record<string, string>, i: number): Promise<number> {
  const root = await mkdtemp(join(tmpdir(), 'infra-agent-bench-autoplan-'));
  try {
    for (const [path, text] of Object.entries(files)) {
      await mkdir(dirname(join(root, path)), { recursive: true });
      await writeFile(join(root, path), text);
    }
    const dir = `stacks/s${i}`;
    const t0 = performance.now();
    const result = await runChecks({
      repoRoot: root,
      project: { name: dir, dir, workspace: 'default', dependsOn: [] },
      config: defaultRepoConfig(),
      fmtWrite: false,
    });
    if (!result.plan) throw new Error(`the direct checks of ${dir} made no plan`);
    return performance.now() - t0;
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const result = await benchAutoplan();
  await mkdir(join(HERE, 'results'), { recursive: true });
  await writeFile(join(HERE, 'results', 'autoplan.json'), `${JSON.stringify(result, null, 2)}\n`);
  console.log(JSON.stringify(result, null, 2));
  process.exit(0);
}

// Prompt size per turn: the agent's grounded prompt (bounded index + state summaries, files read on demand through
// tools) against a naive prompt that pastes every .tf file of the repo, for a small repo and a generated large one
// (≥ 1,000 .tf files). The real loop runs (real SDK, real tools, real index) against the scripted model; what each
// request carries is measured from the bytes the scripted server received.
//
// Tokens are estimated as characters / 4 (Anthropic's rule of thumb for English and code; there is no offline
// tokenizer for current models and count_tokens needs the network). The same estimate is used for both prompts,
// so the ratio is meaningful even where the absolute numbers are approximate.
//
// Naive prompt per turn = the same conversation, with the repo context replaced by the full text of every file:
// naive[n] = agent[n] − agent context + all files.
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { finish, requestText, startScriptedModel, toolUse } from '../devtools/scripted-model.js';
import type { AgentEnvironment } from '../src/agent/environment.js';
import { runAgent } from '../src/agent/loop.js';
import { createModelClient } from '../src/agent/model-client.js';
import { createAgentEnvironment } from '../src/agent/real-environment.js';
import { defaultRepoConfig } from '../src/config/schema.js';
import type { ChecksResult, Project } from '../src/core/types.js';
import { indexRepo } from '../src/repo/index.js';
import type { StateInventory } from '../src/terraform/state.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const SMALL_REPO = join(HERE, '..', 'test', 'fixtures', 'agent', 'small-repo');
const RESULTS = join(HERE, 'results', 'prompt.json');
const CHARS_PER_TOKEN = 4;
const PROJECT: Project = { name: 'root', dir: '.', workspace: 'default', dependsOn: [] };

const tokens = (chars: number): number => Math.ceil(chars / CHARS_PER_TOKEN);

/** A large repo: `modules` modules × `filesPerModule` files, each a few resources, variables and outputs. */
async function generateLargeRepo(dir: string, modules = 50, filesPerModule = 20): Promise<number> {
  let files = 0;
  await writeFile(
    join(dir, 'versions.tf'),
    'terraform {\n  required_providers {\n    random = {\n      source = "hashicorp/random"\n    }\n    local = {\n      source = "hashicorp/local"\n    }\n  }\n}\n',
  );
  files += 1;
  const calls: string[] = [];
  for (let m = 0; m < modules; m++) {
    const mod = join(dir, 'modules', `svc${m}`);
    await mkdir(mod, { recursive: true });
    for (let f = 0; f < filesPerModule; f++) {
      const body = [
        `variable "name_${f}" {\n  type        = string\n  description = "Name prefix for component ${f} of service ${m}."\n  default     = "svc${m}-c${f}"\n}\n`,
        `resource "random_pet" "c${f}" {\n  length = 2\n  prefix = var.name_${f}\n}\n`,
        `resource "local_file" "c${f}" {\n  filename = "\${path.module}/out/c${f}.txt"\n  content  = "component \${random_pet.c${f}.id} of service ${m}"\n}\n`,
        `output "c${f}_name" {\n  description = "Generated name of component ${f}."\n  value       = random_pet.c${f}.id\n}\n`,
      ].join('\n');
      await writeFile(join(mod, `c${f}.tf`), body);
      files += 1;
    }
    calls.push(`module "svc${m}" {\n  source = "./modules/svc${m}"\n}\n`);
  }
  await writeFile(join(dir, 'main.tf'), calls.join('\n'));
  return files + 1;
}

function syntheticState(resources: number): StateInventory {
  return {
    resources: Array.from({ length: resources }, (_, i) => ({
      address: `module.svc${Math.floor(i / 40)}.random_pet.c${i % 40}`,
      type: 'random_pet',
      name: `c${i % 40}`,
      module: `module.svc${Math.floor(i / 40)}`,
      mode: 'managed' as const,
      attributes: { id: `svc-pet-${i}`, length: 2 },
    })),
    outputs: [],
  };
}

const PASSING: ChecksResult = {
  project: PROJECT,
  ok: true,
  stages: (['fmt', 'pregate', 'init', 'validate', 'plan', 'scan', 'verdict'] as const).map((name) => ({
    name,
    status: 'ok' as const,
    durationMs: 1,
  })),
  formatted: [],
  diagnostics: [],
  verdict: { status: 'pass', findings: [], scanners: [], overrides: [], reasons: [] },
  durationMs: 1,
};

async function allFilesText(root: string): Promise<number> {
  const index = await indexRepo(root);
  let chars = 0;
  for (const f of index.files) {
    // "=== path ===\n<content>\n" per file, as a naive prompt would paste them.
    chars += f.path.length + 9 + (await readFile(join(root, f.path), 'utf8')).length;
  }
  return chars;
}

export interface RepoPromptFigures {
  repo: string;
  tfFiles: number;
  /** Estimated tokens of each request the agent sent, turn by turn. */
  agentTokensPerTurn: number[];
  /** Tokens added by each turn (what is not read from the prompt cache on that turn). */
  agentNewTokensPerTurn: number[];
  naiveTokensPerTurn: number[];
  /** The repo + state context inside the agent's prompt. */
  agentContextTokens: number;
  naiveContextTokens: number;
}

async function measure(label: string, root: string, stateResources: number): Promise<RepoPromptFigures> {
  const index = await indexRepo(root);
  const first = index.files[0]?.path ?? 'main.tf';
  const script = [
    toolUse('list_files', { pattern: '**/*.tf', max_entries: 200 }),
    toolUse('search', { pattern: 'resource "random_pet"', max_results: 50 }),
    toolUse('read_file', { path: first }),
    toolUse('write_file', {
      path: 'bench_new.tf',
      content: 'resource "random_pet" "bench" {\n  length = 2\n}\n',
    }),
    toolUse('run_checks', {}),
    finish({ title: 'Add a pet', summary: 'Adds random_pet.bench.' }),
  ];
  const server = await startScriptedModel(script);
  const scratch = await mkdtemp(join(tmpdir(), 'infra-agent-bench-'));
  try {
    // Work on a copy so the bench never edits the fixture.
    const { cp } = await import('node:fs/promises');
    await cp(root, scratch, { recursive: true });
    const real = createAgentEnvironment({
      repoRoot: scratch,
      project: PROJECT,
      config: defaultRepoConfig(),
      state: syntheticState(stateResources),
      checks: async () => PASSING,
    });
    const env: AgentEnvironment = real;
    const client = createModelClient({
      model: 'claude-sonnet-5-5',
      maxTokens: 4096,
      apiKey: 'bench',
      baseURL: server.url,
    });
    await runAgent({ repoRoot: scratch, request: 'Add a random pet for the new service.', env, client });
    const agentTokensPerTurn = server.requests.map((r) => tokens(r.raw.length));
    const agentNewTokensPerTurn = agentTokensPerTurn.map(
      (t, i) => t - (i === 0 ? 0 : (agentTokensPerTurn[i - 1] ?? 0)),
    );
    const body = server.requests[0]?.body;
    const systemBlocks = Array.isArray(body?.system) ? body.system : [];
    const contextChars = (systemBlocks[1]?.text ?? '').length;
    const naiveContextChars = await allFilesText(root);
    const delta = tokens(naiveContextChars) - tokens(contextChars);
    // Sanity: the request went out and carried the context we think it did.
    if (!requestText(body ?? { model: '', max_tokens: 1, messages: [] }).includes('Add a random pet')) {
      throw new Error('bench: the request was not in the prompt');
    }
    return {
      repo: label,
      tfFiles: index.files.length,
      agentTokensPerTurn,
      agentNewTokensPerTurn,
      naiveTokensPerTurn: agentTokensPerTurn.map((t) => t + delta),
      agentContextTokens: tokens(contextChars),
      naiveContextTokens: tokens(naiveContextChars),
    };
  } finally {
    await server.close();
    await rm(scratch, { recursive: true, force: true });
  }
}

export interface PromptBenchResult {
  method: string;
  repos: RepoPromptFigures[];
}

export async function benchPrompt(opts: { write?: boolean; print?: boolean } = {}): Promise<PromptBenchResult> {
  const large = await mkdtemp(join(tmpdir(), 'infra-agent-bench-large-'));
  try {
    await generateLargeRepo(large);
    const repos = [await measure('small (fixture)', SMALL_REPO, 3), await measure('large (generated)', large, 2000)];
    const result: PromptBenchResult = {
      method:
        'tokens ≈ characters / 4 of each request body the scripted model received (real SDK, tools, index); ' +
        'naive = the same conversation with the repo context replaced by every file pasted in full',
      repos,
    };
    if (opts.print !== false) printTable(result);
    if (opts.write !== false) {
      await mkdir(dirname(RESULTS), { recursive: true });
      await writeFile(RESULTS, `${JSON.stringify(result, null, 2)}\n`);
    }
    return result;
  } finally {
    await rm(large, { recursive: true, force: true });
  }
}

function printTable(r: PromptBenchResult): void {
  const out: string[] = ['', 'Prompt size per turn (estimated tokens = chars / 4)', ''];
  for (const repo of r.repos) {
    out.push(
      `${repo.repo}: ${repo.tfFiles} .tf files — context in prompt: agent ${repo.agentContextTokens} vs naive ${repo.naiveContextTokens}`,
    );
    out.push('  turn | agent prompt | new this turn | naive prompt | naive/agent');
    repo.agentTokensPerTurn.forEach((a, i) => {
      const n = repo.naiveTokensPerTurn[i] ?? 0;
      const fresh = repo.agentNewTokensPerTurn[i] ?? 0;
      out.push(
        `  ${String(i + 1).padStart(4)} | ${String(a).padStart(12)} | ${String(fresh).padStart(13)} | ${String(n).padStart(12)} | ${(n / a).toFixed(1).padStart(10)}×`,
      );
    });
    out.push('');
  }
  process.stdout.write(`${out.join('\n')}\n`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  benchPrompt().catch((err: unknown) => {
    process.stderr.write(`bench/prompt: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exitCode = 1;
  });
}

// The checks stage: wall time of runChecks (fmt → guard → init → validate → plan, with tfsec and checkov reading
// the HCL meanwhile, then OPA/checkov on the plan) against the serial sum of the same steps, each run alone, in the
// same process and the same run. Cold = a fresh checkout (no lock file: each init installs into its run's own plugin
// cache); warm = the same checkout again (its lock file now pins the providers, so init links them from the shared
// read-only cache). Also: sandboxed vs unsandboxed (--sandbox-only), each step's sandbox cost (--profile), a warm
// re-check vs cold (--recheck). Writes bench/results/checks*.json; `benchChecks()` is the measurement for run.ts.
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { defaultRepoConfig } from '../src/config/schema.js';
import type { Project } from '../src/core/types.js';
import { runPregate } from '../src/policy/gate.js';
import { checkovScanner } from '../src/policy/scanners/checkov.js';
import { opaScanner } from '../src/policy/scanners/opa.js';
import { tfsecScanner } from '../src/policy/scanners/tfsec.js';
import { run } from '../src/sandbox/exec.js';
import { runChecks } from '../src/stages/checks.js';
import { Terraform } from '../src/terraform/engine.js';

const project: Project = { name: 'bench', dir: '.', workspace: 'default', dependsOn: [] };

/** A root module of ~40 resources over the offline providers, so plan does real graph work. */
function moduleSource(n: number): string {
  const parts = [
    'terraform {\n  required_providers {\n    random = { source = "hashicorp/random" }\n    local  = { source = "hashicorp/local" }\n  }\n}\n',
    'variable "env" {\n  type    = string\n  default = "bench"\n}\n',
  ];
  for (let i = 0; i < n; i++) {
    parts.push(`resource "random_pet" "p${i}" {\n  length = 2\n  prefix = var.env\n}\n`);
    parts.push(`resource "terraform_data" "d${i}" {\n  input = random_pet.p${i}.id\n}\n`);
    parts.push(
      `resource "local_file" "f${i}" {\n  filename = "\${path.module}/out/f${i}.txt"\n  content  = terraform_data.d${i}.output\n}\n`,
    );
  }
  parts.push('output "first" {\n  value = random_pet.p0.id\n}\n');
  return parts.join('\n');
}

interface Pass {
  parallelMs: number;
  serialMs: number;
  steps: Record<string, number>;
}

async function timed<T>(steps: Record<string, number>, name: string, fn: () => Promise<T>): Promise<T> {
  const t = performance.now();
  try {
    return await fn();
  } finally {
    steps[name] = Math.round(performance.now() - t);
  }
}

async function serialPass(dir: string, tf = new Terraform()): Promise<Pass['steps']> {
  const config = defaultRepoConfig();
  const steps: Record<string, number> = {};
  const planFile = join(dir, '..', `serial-${createHash('sha1').update(dir).digest('hex')}.tfplan`);
  const input = { dir, repoRoot: dir, config: config.policy };
  await timed(steps, 'fmt', () => tf.fmt(dir, { write: true }));
  await timed(steps, 'pregate', () => runPregate(dir, dir, config.policy));
  await timed(steps, 'init', () => tf.init(dir));
  await timed(steps, 'validate', () => tf.validate(dir));
  await timed(steps, 'plan', () => tf.plan(dir, { out: planFile }));
  const planJson = await timed(steps, 'show', () => tf.showPlanJson(dir, planFile));
  await timed(steps, 'show text', () => tf.showPlanText(dir, planFile));
  const planJsonPath = `${planFile}.json`;
  await writeFile(planJsonPath, JSON.stringify(planJson), { mode: 0o600 });
  await timed(steps, 'tfsec', () => tfsecScanner.run(input));
  await timed(steps, 'checkov', () => checkovScanner.run({ ...input, planJson, planJsonPath }));
  await timed(steps, 'opa', () => opaScanner.run({ ...input, planJson }));
  return steps;
}

/**
 * A new checkout whose content no earlier pass has seen (the `tag` line), so the App's machine-wide static scan cache
 * (policy/scanners/result-cache.ts) cannot make a cold pass warm; checkouts given the same tag have the same content.
 */
async function freshCheckout(
  base: string,
  name: string,
  resources: number,
  tag = `${name} ${process.pid} ${Date.now()}`,
): Promise<string> {
  const dir = join(base, name);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'main.tf'), `# bench checkout ${tag}\n${moduleSource(resources)}`);
  return dir;
}

async function measure(base: string, label: string, resources: number): Promise<{ cold: Pass; warm: Pass }> {
  // Each mode gets its own checkout, without a lock file for the cold pass.
  const passes: Record<'cold' | 'warm', Partial<Pass>> = { cold: {}, warm: {} };
  for (const mode of ['parallel', 'serial'] as const) {
    const dir = await freshCheckout(base, `${label}-${mode}`, resources);
    for (const temp of ['cold', 'warm'] as const) {
      if (mode === 'parallel') {
        const t = performance.now();
        const r = await runChecks({ repoRoot: dir, project, config: defaultRepoConfig() });
        passes[temp].parallelMs = Math.round(performance.now() - t);
        if (!r.plan) throw new Error(`bench module did not plan: ${JSON.stringify(r.stages)}`);
      } else {
        const steps = await serialPass(dir);
        passes[temp].steps = steps;
        passes[temp].serialMs = Object.values(steps).reduce((a, b) => a + b, 0);
      }
    }
  }
  return { cold: passes.cold as Pass, warm: passes.warm as Pass };
}

/** The same runChecks, sandboxed (bubblewrap) and unsandboxed (INFRA_AGENT_UNSANDBOXED=1), alternated. */
export interface SandboxCost {
  runs: number;
  sandboxedMs: number[];
  unsandboxedMs: number[];
  sandboxedMedianMs: number;
  unsandboxedMedianMs: number;
  /** sandboxed ÷ unsandboxed median. */
  ratio: number;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] ?? 0) : Math.round(((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2);
}

/**
 * The sandbox's price: runChecks on the same module, alternating sandboxed and unsandboxed passes (S U S U …) so
 * machine drift hits both alike. Each pass is a fresh checkout, as every run is.
 */
async function measureSandbox(base: string, resources: number, runs: number): Promise<SandboxCost> {
  const saved = process.env['INFRA_AGENT_UNSANDBOXED'];
  const sandboxedMs: number[] = [];
  const unsandboxedMs: number[] = [];
  try {
    for (let i = 0; i < runs * 2; i++) {
      const sandboxed = i % 2 === 0;
      if (sandboxed) delete process.env['INFRA_AGENT_UNSANDBOXED'];
      else process.env['INFRA_AGENT_UNSANDBOXED'] = '1';
      const dir = await freshCheckout(base, `sandbox-${i}`, resources);
      const t = performance.now();
      const r = await runChecks({ repoRoot: dir, project, config: defaultRepoConfig() });
      const ms = Math.round(performance.now() - t);
      if (!r.plan) throw new Error(`bench module did not plan: ${JSON.stringify(r.stages)}`);
      if ((r.verdict.unsandboxed === true) === sandboxed) throw new Error('the pass did not run in the mode asked');
      (sandboxed ? sandboxedMs : unsandboxedMs).push(ms);
    }
  } finally {
    if (saved === undefined) delete process.env['INFRA_AGENT_UNSANDBOXED'];
    else process.env['INFRA_AGENT_UNSANDBOXED'] = saved;
  }
  const s = median(sandboxedMs);
  const u = median(unsandboxedMs);
  return {
    runs,
    sandboxedMs,
    unsandboxedMs,
    sandboxedMedianMs: s,
    unsandboxedMedianMs: u,
    ratio: Math.round((s / u) * 1000) / 1000,
  };
}

export interface ChecksBenchResult {
  resources: number;
  cold: Pass & { ratio: number };
  warm: Pass & { ratio: number };
  sandbox: SandboxCost;
  recheck: RecheckCost;
  cpus: number;
  loadAvg1m: number;
  node: string;
  date: string;
}

export async function benchChecks(opts: { resources?: number; sandboxRuns?: number } = {}): Promise<ChecksBenchResult> {
  const resources = opts.resources ?? 15;
  const load = loadavg()[0] ?? 0;
  const base = await mkdtemp(join(tmpdir(), 'infra-agent-bench-checks-'));
  try {
    const { cold, warm } = await measure(base, 'm', resources);
    const sandbox = await measureSandbox(base, resources, opts.sandboxRuns ?? 3);
    const recheck = await measureRecheck({ resources });
    const ratio = (p: Pass) => Math.round((p.parallelMs / p.serialMs) * 100) / 100;
    return {
      resources: resources * 3,
      cold: { ...cold, ratio: ratio(cold) },
      warm: { ...warm, ratio: ratio(warm) },
      sandbox,
      recheck,
      cpus: cpus().length,
      loadAvg1m: Math.round(load * 100) / 100,
      node: process.version,
      date: new Date().toISOString(),
    };
  } finally {
    await rm(base, { recursive: true, force: true });
  }
}

export function renderChecksTable(r: ChecksBenchResult): string {
  const row = (name: string, p: Pass & { ratio: number }) =>
    `| ${name} | ${p.parallelMs} | ${p.serialMs} | ${p.ratio} | ${Object.entries(p.steps)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')} |`;
  return [
    `Checks stage on a ${r.resources}-resource root module (${r.cpus} CPUs, load ${r.loadAvg1m}):`,
    '',
    '| pass | runChecks wall ms | serial sum ms | ratio | serial steps (ms) |',
    '|---|---|---|---|---|',
    row('cold (fresh checkout, no lock file)', r.cold),
    row('warm (same checkout: providers linked from the shared cache)', r.warm),
    '',
    `Sandboxed vs unsandboxed runChecks, alternated, ${r.sandbox.runs} each: sandboxed ${r.sandbox.sandboxedMs.join(', ')} ms ` +
      `(median ${r.sandbox.sandboxedMedianMs}); unsandboxed ${r.sandbox.unsandboxedMs.join(', ')} ms ` +
      `(median ${r.sandbox.unsandboxedMedianMs}); ratio ${r.sandbox.ratio}`,
    `Warm re-check of an unchanged project vs its cold first check, ${r.recheck.runs} each: warm ${r.recheck.warmMs.join(', ')} ms ` +
      `(median ${r.recheck.warmMedianMs}); cold ${r.recheck.coldMs.join(', ')} ms (median ${r.recheck.coldMedianMs}); ratio ${r.recheck.ratio}`,
  ].join('\n');
}

/** Only the sandboxed-vs-unsandboxed row (`npx tsx bench/checks.ts --sandbox-only`), for a quick figure. */
export async function benchSandboxCost(opts: { resources?: number; runs?: number } = {}): Promise<SandboxCost> {
  const base = await mkdtemp(join(tmpdir(), 'infra-agent-bench-sandbox-'));
  try {
    return await measureSandbox(base, opts.resources ?? 15, opts.runs ?? 3);
  } finally {
    await rm(base, { recursive: true, force: true });
  }
}

/** A warm re-check (`/infra plan` on an unchanged project) against the project's first, cold check. */
export interface RecheckCost {
  runs: number;
  coldMs: number[];
  warmMs: number[];
  coldMedianMs: number;
  warmMedianMs: number;
  /** warm ÷ cold median; goal ≤ 0.5. */
  ratio: number;
  /** Stage durations (ms) of the last cold and warm pass, to show where the time goes. */
  coldStages: Record<string, number>;
  warmStages: Record<string, number>;
}

/** A fresh clone as the App makes one: `.git/config` naming the origin, and the project's committed lock file. */
async function cloneOf(base: string, name: string, resources: number, origin: string, lock: string): Promise<string> {
  const dir = await freshCheckout(base, name, resources, origin);
  await mkdir(join(dir, '.git'), { recursive: true });
  await writeFile(join(dir, '.git', 'config'), `[remote "origin"]\n\turl = ${origin}\n`);
  await writeFile(join(dir, '.terraform.lock.hcl'), lock);
  return dir;
}

/**
 * Cold: the first check of a project (a repository the App has not planned before: its data dir is empty). Warm: the
 * same unchanged project checked again from a fresh clone — the project's .terraform is reused (data-dirs.ts), its init
 * skipped (init-stamp.ts), and the scanners' results for the same files and plan reused (result-cache.ts).
 * Machine-wide caches (the shared provider cache, checkov's warm grammar) are warm in both, as on a running App.
 */
export async function measureRecheck(opts: { resources?: number; runs?: number } = {}): Promise<RecheckCost> {
  const base = await mkdtemp(join(tmpdir(), 'infra-agent-bench-recheck-'));
  const resources = opts.resources ?? 15;
  const runs = opts.runs ?? 3;
  const coldMs: number[] = [];
  const warmMs: number[] = [];
  let coldStages: Record<string, number> = {};
  let warmStages: Record<string, number> = {};
  try {
    // The lock file a repository commits, made once by a throwaway init.
    const seed = await freshCheckout(base, 'seed', resources);
    const tf = new Terraform({ checkout: seed });
    await tf.init(seed).finally(() => tf.dispose());
    const lock = await readFile(join(seed, '.terraform.lock.hcl'), 'utf8');
    const stagesOf = (r: Awaited<ReturnType<typeof runChecks>>) =>
      Object.fromEntries(r.stages.map((st) => [st.name, st.durationMs]));
    for (let i = 0; i < runs; i++) {
      const origin = `https://github.com/bench/recheck-${process.pid}-${Date.now()}-${i}.git`;
      for (const temp of ['cold', 'warm'] as const) {
        const dir = await cloneOf(base, `recheck-${i}-${temp}`, resources, origin, lock);
        const t = performance.now();
        const r = await runChecks({ repoRoot: dir, project, config: defaultRepoConfig() });
        const ms = Math.round(performance.now() - t);
        if (!r.plan) throw new Error(`bench module did not plan: ${JSON.stringify(r.stages)}`);
        (temp === 'cold' ? coldMs : warmMs).push(ms);
        if (temp === 'cold') coldStages = stagesOf(r);
        else warmStages = stagesOf(r);
      }
    }
  } finally {
    await rm(base, { recursive: true, force: true });
  }
  const c = median(coldMs);
  const w = median(warmMs);
  return {
    runs,
    coldMs,
    warmMs,
    coldMedianMs: c,
    warmMedianMs: w,
    ratio: Math.round((w / c) * 1000) / 1000,
    coldStages,
    warmStages,
  };
}

/** Per-step medians, sandboxed vs unsandboxed: where the sandbox's time goes (`--profile`). */
export interface SandboxProfile {
  runs: number;
  /** step → [sandboxed median ms, unsandboxed median ms]. */
  steps: Record<string, { sandboxedMs: number; unsandboxedMs: number; sandboxed: number[]; unsandboxed: number[] }>;
  sandboxedTotalMs: number;
  unsandboxedTotalMs: number;
}

/**
 * The serial steps of a checks pass, each timed alone, sandboxed and unsandboxed alternated (fresh checkout and
 * Terraform each pass), plus the bare price of a sandbox: `true` in bwrap, and in bwrap behind the proxy forwarder.
 */
export async function profileSandbox(opts: { resources?: number; runs?: number } = {}): Promise<SandboxProfile> {
  const base = await mkdtemp(join(tmpdir(), 'infra-agent-bench-profile-'));
  const saved = process.env['INFRA_AGENT_UNSANDBOXED'];
  const samples: Record<'s' | 'u', Record<string, number[]>> = { s: {}, u: {} };
  const runs = opts.runs ?? 3;
  try {
    for (let i = 0; i < runs * 2; i++) {
      const mode = i % 2 === 0 ? 's' : 'u';
      if (mode === 's') delete process.env['INFRA_AGENT_UNSANDBOXED'];
      else process.env['INFRA_AGENT_UNSANDBOXED'] = '1';
      const dir = await freshCheckout(base, `profile-${i}`, opts.resources ?? 15);
      const steps: Record<string, number> = {};
      const none = { readOnly: [], writable: [dir], network: { mode: 'none' as const } };
      await timed(steps, 'sandbox start (true)', () => run('/bin/true', [], { sandbox: none }));
      await timed(steps, 'sandbox start + proxy forwarder (true)', () =>
        run('/bin/true', [], { sandbox: { ...none, network: { mode: 'allowlist', hosts: ['example.com'] } } }),
      );
      const tf = new Terraform({ checkout: dir });
      try {
        Object.assign(steps, await serialPass(dir, tf));
      } finally {
        tf.dispose();
      }
      for (const [k, v] of Object.entries(steps)) samples[mode][k] = [...(samples[mode][k] ?? []), v];
    }
  } finally {
    if (saved === undefined) delete process.env['INFRA_AGENT_UNSANDBOXED'];
    else process.env['INFRA_AGENT_UNSANDBOXED'] = saved;
    await rm(base, { recursive: true, force: true });
  }
  const steps: SandboxProfile['steps'] = {};
  let st = 0;
  let ut = 0;
  for (const [name, sandboxed] of Object.entries(samples.s)) {
    const unsandboxed = samples.u[name] ?? [];
    steps[name] = { sandboxedMs: median(sandboxed), unsandboxedMs: median(unsandboxed), sandboxed, unsandboxed };
    if (!name.startsWith('sandbox start')) {
      st += median(sandboxed);
      ut += median(unsandboxed);
    }
  }
  return { runs, steps, sandboxedTotalMs: st, unsandboxedTotalMs: ut };
}

export function renderProfile(p: SandboxProfile): string {
  return [
    '| step | sandboxed ms | unsandboxed ms | difference |',
    '|---|---|---|---|',
    ...Object.entries(p.steps).map(
      ([k, v]) => `| ${k} | ${v.sandboxedMs} | ${v.unsandboxedMs} | ${v.sandboxedMs - v.unsandboxedMs} |`,
    ),
    `| serial sum | ${p.sandboxedTotalMs} | ${p.unsandboxedTotalMs} | ${p.sandboxedTotalMs - p.unsandboxedTotalMs} |`,
  ].join('\n');
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href && process.argv.includes('--recheck')) {
  const load = loadavg();
  const result = {
    ...(await measureRecheck()),
    cpus: cpus().length,
    loadAvg: [load, loadavg()],
    date: new Date().toISOString(),
  };
  const out = join(dirname(fileURLToPath(import.meta.url)), 'results', 'checks-recheck.json');
  await mkdir(dirname(out), { recursive: true });
  await writeFile(out, `${JSON.stringify(result, null, 2)}\n`);
  console.log(JSON.stringify(result, null, 2));
} else if (
  process.argv[1] &&
  import.meta.url === pathToFileURL(process.argv[1]).href &&
  process.argv.includes('--profile')
) {
  const load = loadavg();
  const profile = await profileSandbox();
  const result = { ...profile, cpus: cpus().length, loadAvg: [load, loadavg()], date: new Date().toISOString() };
  const out = join(dirname(fileURLToPath(import.meta.url)), 'results', 'checks-profile.json');
  await mkdir(dirname(out), { recursive: true });
  await writeFile(out, `${JSON.stringify(result, null, 2)}\n`);
  console.log(`${renderProfile(profile)}\n\nload average before ${load.join(' / ')}, after ${loadavg().join(' / ')}`);
} else if (
  process.argv[1] &&
  import.meta.url === pathToFileURL(process.argv[1]).href &&
  process.argv.includes('--sandbox-only')
) {
  const result = {
    ...(await benchSandboxCost()),
    cpus: cpus().length,
    loadAvg1m: loadavg()[0] ?? 0,
    date: new Date().toISOString(),
  };
  const out = join(dirname(fileURLToPath(import.meta.url)), 'results', 'checks-sandbox.json');
  await mkdir(dirname(out), { recursive: true });
  await writeFile(out, `${JSON.stringify(result, null, 2)}\n`);
  console.log(JSON.stringify(result, null, 2));
} else if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const result = await benchChecks();
  const out = join(dirname(fileURLToPath(import.meta.url)), 'results', 'checks.json');
  await mkdir(dirname(out), { recursive: true });
  await writeFile(out, `${JSON.stringify(result, null, 2)}\n`);
  console.log(renderChecksTable(result));
}

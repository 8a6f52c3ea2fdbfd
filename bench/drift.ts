// A drift check (the pre-plan guard, init, then `plan -refresh-only` and a normal plan side by side, both summarised)
// of a 45-resource root module with real state and some drift (files deleted out of band), against that project's
// plan alone (init + plan + show -json + summary: what a PR's plan costs), in the same process and the same run,
// warm (providers installed, state present), median of 3 each, alternating. Also the two plans one after the other,
// to show what running them side by side saves. Writes bench/results/drift.json.
import { mkdir, mkdtemp, rm, unlink, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { defaultRepoConfig } from '../src/config/schema.js';
import type { Project } from '../src/core/types.js';
import { runDriftCheck } from '../src/drift/check.js';
import { Terraform } from '../src/terraform/engine.js';
import { summarizePlan } from '../src/terraform/plan-summary.js';

const project: Project = { name: 'bench', dir: '.', workspace: 'default', dependsOn: [] };

function moduleSource(n: number): string {
  const parts = [
    'terraform {\n  required_providers {\n    random = { source = "hashicorp/random" }\n    local  = { source = "hashicorp/local" }\n  }\n}\n',
  ];
  for (let i = 0; i < n; i++) {
    parts.push(`resource "random_pet" "p${i}" {\n  length = 2\n}\n`);
    parts.push(`resource "terraform_data" "d${i}" {\n  input = random_pet.p${i}.id\n}\n`);
    parts.push(
      // Inside the module: terraform runs in the sandbox, where only the checkout is writable.
      `resource "local_file" "f${i}" {\n  filename = "\${path.module}/out/f${i}.txt"\n  content  = terraform_data.d${i}.output\n}\n`,
    );
  }
  return parts.join('\n');
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? 0;
};

export interface DriftBenchResult {
  resources: number;
  driftedResources: number;
  checkMs: number[];
  planMs: number[];
  serialTwoPlansMs: number[];
  medianCheckMs: number;
  medianPlanMs: number;
  medianSerialMs: number;
  ratio: number;
  cpus: number;
  loadAvg1m: number;
  node: string;
  date: string;
}

export async function benchDrift(opts: { groups?: number; runs?: number } = {}): Promise<DriftBenchResult> {
  const groups = opts.groups ?? 15;
  const runs = opts.runs ?? 3;
  const load = loadavg()[0] ?? 0;
  const base = await mkdtemp(join(tmpdir(), 'infra-agent-bench-drift-'));
  try {
    const dir = join(base, 'module');
    const outDir = join(dir, 'out');
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'main.tf'), moduleSource(groups));
    const tf = new Terraform();
    await tf.init(dir);
    await tf.plan(dir, { out: join(base, 'first.tfplan') });
    await tf.apply(dir, join(base, 'first.tfplan'));
    // Drift: three managed files deleted out of band.
    for (const i of [0, 1, 2]) await unlink(join(outDir, `f${i}.txt`));
    const config = defaultRepoConfig();

    const checkMs: number[] = [];
    const planMs: number[] = [];
    const serialMs: number[] = [];
    let drifted = 0;
    for (let r = 0; r < runs; r++) {
      let t = performance.now();
      const check = await runDriftCheck({ repoRoot: dir, project, config, terraform: tf, untrusted: false });
      checkMs.push(Math.round(performance.now() - t));
      if (check.status !== 'drifted') throw new Error(`expected drift, got ${check.status}: ${check.error ?? ''}`);
      drifted = check.resources.length;

      t = performance.now();
      await tf.init(dir);
      await tf.plan(dir, { out: join(base, 'plan.tfplan') });
      summarizePlan(await tf.showPlanJson(dir, join(base, 'plan.tfplan')));
      planMs.push(Math.round(performance.now() - t));

      t = performance.now();
      await tf.init(dir);
      await tf.plan(dir, { out: join(base, 'ro.tfplan'), refreshOnly: true, lock: false });
      summarizePlan(await tf.showPlanJson(dir, join(base, 'ro.tfplan')));
      await tf.plan(dir, { out: join(base, 'p2.tfplan'), lock: false });
      summarizePlan(await tf.showPlanJson(dir, join(base, 'p2.tfplan')));
      serialMs.push(Math.round(performance.now() - t));
    }
    const medianCheckMs = median(checkMs);
    const medianPlanMs = median(planMs);
    return {
      resources: groups * 3,
      driftedResources: drifted,
      checkMs,
      planMs,
      serialTwoPlansMs: serialMs,
      medianCheckMs,
      medianPlanMs,
      medianSerialMs: median(serialMs),
      ratio: Math.round((medianCheckMs / medianPlanMs) * 100) / 100,
      cpus: cpus().length,
      loadAvg1m: Math.round(load * 100) / 100,
      node: process.version,
      date: new Date().toISOString(),
    };
  } finally {
    await rm(base, { recursive: true, force: true });
  }
}

export function renderDrift(r: DriftBenchResult): string {
  return [
    `Drift check of a ${r.resources}-resource root module (${r.driftedResources} drifted; ${r.cpus} CPUs, load ${r.loadAvg1m}):`,
    '',
    '| pass | median ms | runs (ms) |',
    '|---|---|---|',
    `| drift check (guard, init, refresh-only ∥ plan, summaries) | ${r.medianCheckMs} | ${r.checkMs.join(', ')} |`,
    `| plan alone (init, plan, show -json, summary) | ${r.medianPlanMs} | ${r.planMs.join(', ')} |`,
    `| the two plans one after the other | ${r.medianSerialMs} | ${r.serialTwoPlansMs.join(', ')} |`,
  ].join('\n');
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const result = await benchDrift();
  const out = join(dirname(fileURLToPath(import.meta.url)), 'results', 'drift.json');
  await mkdir(dirname(out), { recursive: true });
  await writeFile(out, `${JSON.stringify(result, null, 2)}\n`);
  console.log(renderDrift(result));
}

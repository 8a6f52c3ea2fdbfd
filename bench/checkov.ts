// checkov cold vs warm (issue #17 item 4): the same checkov scan (the dir with `terraform secrets`, then the plan JSON
// with `terraform_plan`), one-shot — a new Python process that imports checkov each time, as before — and through the
// warm worker (imported once, a forked child per scan, inside bubblewrap). Alternated, median of `runs` each, after one
// untimed warm-up of each (the worker's own start-up is reported apart). Writes bench/results/checkov.json.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { defaultRepoConfig } from '../src/config/schema.js';
import { checkovScanner } from '../src/policy/scanners/checkov.js';
import { stopCheckovWorkers, workerScans } from '../src/policy/scanners/checkov-worker.js';
import type { ScanInput } from '../src/policy/scanners/types.js';
import { Terraform } from '../src/terraform/engine.js';
import { percentile, round } from './lib/stats.js';

const HERE = dirname(fileURLToPath(import.meta.url));

export interface CheckovBenchResult {
  resources: number;
  runs: number;
  coldMs: number[];
  warmMs: number[];
  coldMedianMs: number;
  warmMedianMs: number;
  /** warm ÷ cold median. */
  ratio: number;
  /** The first warm scan, which starts the worker (bwrap + Python + import checkov). */
  workerStartMs: number;
  findings: number;
  loadAvg1m: number;
  date: string;
}

/** A root module of `n` local resources (offline providers), some with settings checkov has rules for. */
export function moduleOf(n: number): string {
  const out = [
    'terraform {\n  required_providers {\n    random = { source = "hashicorp/random" }\n    local = { source = "hashicorp/local" }\n  }\n}\n',
  ];
  for (let i = 0; i < n; i++) {
    if (i % 3 === 0) out.push(`resource "random_pet" "p${i}" {\n  length = ${2 + (i % 3)}\n}\n`);
    else if (i % 3 === 1)
      out.push(
        `resource "local_file" "f${i}" {\n  filename        = "\${path.module}/out/f${i}.txt"\n  content         = "file ${i}"\n  file_permission = "0644"\n}\n`,
      );
    else out.push(`resource "terraform_data" "d${i}" {\n  input = { index = ${i}, name = "d${i}" }\n}\n`);
  }
  return out.join('\n');
}

async function time<T>(fn: () => Promise<T>): Promise<[number, T]> {
  const t = performance.now();
  const r = await fn();
  return [Math.round(performance.now() - t), r];
}

export async function benchCheckov(opts: { resources?: number; runs?: number } = {}): Promise<CheckovBenchResult> {
  const resources = opts.resources ?? 45;
  const runs = opts.runs ?? 5;
  const load = loadavg()[0] ?? 0;
  const base = await mkdtemp(join(tmpdir(), 'infra-agent-bench-checkov-'));
  const saved = process.env['INFRA_AGENT_CHECKOV_WORKERS'];
  try {
    const dir = join(base, 'repo');
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'main.tf'), moduleOf(resources));
    const tf = new Terraform();
    const planFile = join(base, 'tfplan');
    await tf.init(dir);
    await tf.plan(dir, { out: planFile });
    const planJson = await tf.showPlanJson(dir, planFile);
    const planJsonPath = join(base, 'plan.json');
    await writeFile(planJsonPath, JSON.stringify(planJson), { mode: 0o600 });
    tf.dispose();
    const input: ScanInput = { dir, repoRoot: dir, config: defaultRepoConfig().policy, planJson, planJsonPath };
    const cold = async () => {
      process.env['INFRA_AGENT_CHECKOV_WORKERS'] = '0';
      return time(() => checkovScanner.run(input));
    };
    const warm = async () => {
      delete process.env['INFRA_AGENT_CHECKOV_WORKERS'];
      const before = workerScans();
      const r = await time(() => checkovScanner.run(input));
      if (workerScans() === before) throw new Error('the warm pass did not go through the worker');
      return r;
    };
    const [workerStartMs] = await warm();
    const [, first] = await cold();
    if (first.status !== 'ok') throw new Error(`checkov failed: ${first.reason}`);
    const coldMs: number[] = [];
    const warmMs: number[] = [];
    let findings = 0;
    for (let i = 0; i < runs; i++) {
      const [c, rc] = await cold();
      const [w, rw] = await warm();
      if (rw.findings.length !== rc.findings.length)
        throw new Error(`warm found ${rw.findings.length}, cold ${rc.findings.length}`);
      findings = rw.findings.length;
      coldMs.push(c);
      warmMs.push(w);
    }
    const coldMedianMs = percentile(coldMs, 50);
    const warmMedianMs = percentile(warmMs, 50);
    return {
      resources,
      runs,
      coldMs,
      warmMs,
      coldMedianMs,
      warmMedianMs,
      ratio: round(warmMedianMs / coldMedianMs, 2),
      workerStartMs,
      findings,
      loadAvg1m: round(load, 2),
      date: new Date().toISOString(),
    };
  } finally {
    if (saved === undefined) delete process.env['INFRA_AGENT_CHECKOV_WORKERS'];
    else process.env['INFRA_AGENT_CHECKOV_WORKERS'] = saved;
    stopCheckovWorkers();
    await rm(base, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const r = await benchCheckov();
  const out = resolve(HERE, 'results', 'checkov.json');
  await writeFile(out, `${JSON.stringify(r, null, 2)}\n`);
  process.stdout.write(
    `checkov on a ${r.resources}-resource module (dir + plan), median of ${r.runs}: cold ${r.coldMedianMs} ms, warm ${r.warmMedianMs} ms → ${r.ratio}; worker start ${r.workerStartMs} ms; load ${r.loadAvg1m}\n`,
  );
}

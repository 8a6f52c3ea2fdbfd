// Indexing speed: a generated tree of ≥ 1,000 realistic .tf files indexed cold (fresh cache: every file parsed with
// hcl2json) and warm (same cache, unchanged tree: every file hashed, none parsed). Then the user's view: the built
// `infra-agent index` command run twice from the command line on the same tree (its persistent cache in a fresh dir),
// first run vs second, and the curve of cold/warm time against the number of files (bench/results/index.svg). Prints
// files per second and writes bench/results/index.json. `benchIndex()` is the measurement, for bench/run.ts.
import { mkdir, mkdtemp, readdir, rm, utimes, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { IndexCache, indexRepo } from '../src/repo/index.js';
import { run } from '../src/sandbox/exec.js';
import { projectRoot } from '../src/toolchain/tools.js';
import { generateTfTree } from './lib/generate-tf-tree.js';
import { percentile } from './lib/stats.js';
import { lineChart } from './lib/svg-chart.js';

export interface IndexBenchResult {
  files: number;
  bytes: number;
  coldMs: number;
  warmMs: number;
  coldFilesPerSec: number;
  warmFilesPerSec: number;
  /** What the index found, to show the run did real work. */
  resources: number;
  parsedCold: number;
  parsedWarm: number;
  /** `infra-agent index <tree>` (the built CLI, a new node process each time) run twice, fresh cache dir per pair. */
  cli: { firstMs: number[]; secondMs: number[]; medianFirstMs: number; medianSecondMs: number; ratio: number };
  /** Cold and warm (in-process) index time by tree size. */
  curve: { files: number; coldMs: number; warmMs: number }[];
  node: string;
  /** The machine, so a figure can be judged: CPUs and the 1-minute load average when the run started. */
  cpus: number;
  loadAvg1m: number;
  date: string;
}

/** Every file's mtime a minute back, as in a real checkout (the cache does not trust a file changed seconds ago). */
async function age(root: string): Promise<void> {
  const past = new Date(Date.now() - 60_000);
  for (const f of await readdir(root, { recursive: true, withFileTypes: true }))
    if (f.isFile()) await utimes(join(f.parentPath, f.name), past, past);
}

/** The CLI as users run it: `tsc` to a scratch dist inside the project (so node_modules resolves), then node. */
async function buildCli(): Promise<string> {
  const out = join(projectRoot(), 'node_modules', '.cache', 'infra-agent-bench-dist');
  await rm(out, { recursive: true, force: true });
  const tsc = join(projectRoot(), 'node_modules', '.bin', 'tsc');
  await run(tsc, ['-p', join(projectRoot(), 'tsconfig.build.json'), '--outDir', out, '--sourceMap', 'false'], {
    cwd: projectRoot(),
    timeoutMs: 600_000,
  });
  return join(out, 'cli.js');
}

async function cliTwice(cli: string, tree: string, pairs: number): Promise<IndexBenchResult['cli']> {
  const firstMs: number[] = [];
  const secondMs: number[] = [];
  const once = async (cacheDir: string) => {
    const t = performance.now();
    // exit 0 (inventory) or 1 (parse errors) both count: the generated tree has none, checked below
    const r = await run(process.execPath, [cli, 'index', tree, '--cache-dir', cacheDir], {
      timeoutMs: 300_000,
      outputCap: 64 * 1024,
    });
    if (!r.stdout.includes('Terraform files')) throw new Error(`infra-agent index printed no inventory: ${r.stderr}`);
    return performance.now() - t;
  };
  for (let i = 0; i < pairs; i++) {
    const cacheDir = await mkdtemp(join(tmpdir(), 'infra-agent-bench-index-cache-'));
    try {
      firstMs.push(Math.round(await once(cacheDir)));
      secondMs.push(Math.round(await once(cacheDir)));
    } finally {
      await rm(cacheDir, { recursive: true, force: true });
    }
  }
  const medianFirstMs = percentile(firstMs, 50);
  const medianSecondMs = percentile(secondMs, 50);
  return {
    firstMs,
    secondMs,
    medianFirstMs,
    medianSecondMs,
    ratio: Math.round((medianFirstMs / medianSecondMs) * 10) / 10,
  };
}

async function curvePoint(modules: number): Promise<IndexBenchResult['curve'][number]> {
  const root = await mkdtemp(join(tmpdir(), 'infra-agent-bench-index-curve-'));
  try {
    const tree = await generateTfTree(root, { modules });
    const cache = new IndexCache();
    let t = performance.now();
    await indexRepo(root, { cache });
    const coldMs = Math.round(performance.now() - t);
    t = performance.now();
    await indexRepo(root, { cache });
    return { files: tree.files, coldMs, warmMs: Math.round(performance.now() - t) };
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

export async function benchIndex(
  opts: { modules?: number; filesPerModule?: number; cliPairs?: number; curve?: number[] } = {},
): Promise<IndexBenchResult> {
  const load = loadavg()[0] ?? 0;
  const root = await mkdtemp(join(tmpdir(), 'infra-agent-bench-index-'));
  try {
    const tree = await generateTfTree(root, opts);
    await age(root);
    const cache = new IndexCache();
    // hcl2json loads its WebAssembly module on first use; that one-off start-up is not indexing speed.
    await indexRepo(join(root, 'envs', 'env-0'), { cache: new IndexCache() });

    let t = performance.now();
    const cold = await indexRepo(root, { cache });
    const coldMs = performance.now() - t;

    t = performance.now();
    const warm = await indexRepo(root, { cache });
    const warmMs = performance.now() - t;

    if (cold.files.length !== tree.files) throw new Error(`indexed ${cold.files.length} of ${tree.files} files`);
    const cli = await cliTwice(await buildCli(), root, opts.cliPairs ?? 3);
    const curve: IndexBenchResult['curve'] = [];
    for (const modules of opts.curve ?? [20, 60, 200, 600]) curve.push(await curvePoint(modules));
    await writeIndexChart(curve);
    if (cold.errors.length > 0) throw new Error(`generated tree has parse errors: ${cold.errors[0]?.message}`);
    const perSec = (n: number, ms: number) => Math.round((n / ms) * 1000);
    return {
      files: tree.files,
      bytes: tree.bytes,
      coldMs: Math.round(coldMs),
      warmMs: Math.round(warmMs),
      coldFilesPerSec: perSec(tree.files, coldMs),
      warmFilesPerSec: perSec(tree.files, warmMs),
      resources: cold.resources.length,
      parsedCold: cold.stats.parsed,
      parsedWarm: warm.stats.parsed,
      cli,
      curve,
      node: process.version,
      cpus: cpus().length,
      loadAvg1m: Math.round(load * 100) / 100,
      date: new Date().toISOString(),
    };
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

async function writeIndexChart(curve: IndexBenchResult['curve']): Promise<void> {
  const out = join(dirname(fileURLToPath(import.meta.url)), 'results', 'index.svg');
  await mkdir(dirname(out), { recursive: true });
  await writeFile(
    out,
    lineChart({
      title: 'Indexing time vs number of .tf files',
      xLabel: '.tf files',
      yLabel: 'ms',
      series: [
        { name: 'cold (every file parsed)', points: curve.map((p) => [p.files, p.coldMs]) },
        { name: 'cached (hashed, not parsed)', points: curve.map((p) => [p.files, p.warmMs]) },
      ],
    }),
  );
}

async function main(): Promise<void> {
  const result = await benchIndex();
  const out = join(dirname(fileURLToPath(import.meta.url)), 'results', 'index.json');
  await mkdir(dirname(out), { recursive: true });
  await writeFile(out, `${JSON.stringify(result, null, 2)}\n`);
  process.stdout.write(
    [
      `index: ${result.files} .tf files (${(result.bytes / 1024 / 1024).toFixed(1)} MB), ${result.resources} resources`,
      `  cold (every file parsed, ${result.parsedCold}): ${result.coldMs} ms = ${result.coldFilesPerSec} files/s`,
      `  warm (cache hit, ${result.parsedWarm} parsed): ${result.warmMs} ms = ${result.warmFilesPerSec} files/s`,
      `  CLI run twice: first ${result.cli.firstMs.join('/')} ms, second ${result.cli.secondMs.join('/')} ms → ${result.cli.ratio}× faster`,
      `  curve: ${result.curve.map((p) => `${p.files} files ${p.coldMs}/${p.warmMs} ms`).join(', ')}`,
      `  (${result.cpus} CPUs, load ${result.loadAvg1m} at start) → ${out}`,
      '',
    ].join('\n'),
  );
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err: unknown) => {
    process.stderr.write(`bench/index: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  });
}

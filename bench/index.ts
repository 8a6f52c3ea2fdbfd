// Indexing speed: a generated tree of ≥ 1,000 realistic .tf files indexed cold (fresh cache: every file parsed with
// hcl2json) and warm (same cache, unchanged tree: every file hashed, none parsed). Prints files per second and
// writes bench/results/index.json. `benchIndex()` is the measurement, for bench/run.ts.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { IndexCache, indexRepo } from '../src/repo/index.js';
import { generateTfTree } from './lib/generate-tf-tree.js';

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
  node: string;
  /** The machine, so a figure can be judged: CPUs and the 1-minute load average when the run started. */
  cpus: number;
  loadAvg1m: number;
  date: string;
}

export async function benchIndex(opts: { modules?: number; filesPerModule?: number } = {}): Promise<IndexBenchResult> {
  const load = loadavg()[0] ?? 0;
  const root = await mkdtemp(join(tmpdir(), 'infra-agent-bench-index-'));
  try {
    const tree = await generateTfTree(root, opts);
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
      node: process.version,
      cpus: cpus().length,
      loadAvg1m: Math.round(load * 100) / 100,
      date: new Date().toISOString(),
    };
  } finally {
    await rm(root, { recursive: true, force: true });
  }
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

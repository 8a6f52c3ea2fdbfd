// Benchmark: the policy gate's wall time against the sum of its scanners' own times on the vulnerable sample tree.
// The scanners run concurrently, so wall time must be well under the sum. `npx tsx bench/gate.ts`; writes
// bench/results/gate.json. `benchGate()` is exported for bench/run.ts.
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PolicyConfigSchema } from '../src/config/schema.js';
import { runGate } from '../src/policy/gate.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const TREE = resolve(HERE, '../test/fixtures/policy/vulnerable');

export interface GateBenchResult {
  tree: string;
  runs: number;
  wallMs: number[];
  sumOfScannersMs: number[];
  scanners: Record<string, number[]>;
  medianWallMs: number;
  medianSumMs: number;
  /** sum / wall: above 1 means the scanners overlapped. */
  overlap: number;
  verdict: string;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] ?? 0) : ((s[mid - 1] ?? 0) + (s[mid] ?? 0)) / 2;
}

export async function benchGate(opts: { runs?: number; out?: string } = {}): Promise<GateBenchResult> {
  const runs = opts.runs ?? 3;
  const config = PolicyConfigSchema.parse({ allowed_regions: ['eu-west-1'], required_tags: ['owner'] });
  const wallMs: number[] = [];
  const sumOfScannersMs: number[] = [];
  const scanners: Record<string, number[]> = {};
  let verdict = '';
  // One warm-up run: first use loads hcl2json's wasm and fills the OS cache for the scanners' binaries.
  await runGate({ dir: TREE, repoRoot: TREE, config });
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    const v = await runGate({ dir: TREE, repoRoot: TREE, config });
    wallMs.push(Math.round(performance.now() - started));
    verdict = v.status;
    let sum = 0;
    for (const s of v.scanners) {
      if (s.status !== 'ok') throw new Error(`${s.name} ${s.status}: ${s.reason ?? ''} (run \`npm run bootstrap\`)`);
      const times = scanners[s.name] ?? [];
      times.push(s.durationMs);
      scanners[s.name] = times;
      sum += s.durationMs;
    }
    sumOfScannersMs.push(sum);
  }
  const result: GateBenchResult = {
    tree: 'test/fixtures/policy/vulnerable',
    runs,
    wallMs,
    sumOfScannersMs,
    scanners,
    medianWallMs: median(wallMs),
    medianSumMs: median(sumOfScannersMs),
    overlap: Math.round((median(sumOfScannersMs) / median(wallMs)) * 100) / 100,
    verdict,
  };
  const out = opts.out ?? join(HERE, 'results', 'gate.json');
  await mkdir(dirname(out), { recursive: true });
  await writeFile(out, `${JSON.stringify(result, null, 2)}\n`);
  return result;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  benchGate().then(
    (r) => {
      const per = Object.entries(r.scanners)
        .map(([name, xs]) => `${name} ${median(xs)} ms`)
        .join(', ');
      process.stdout.write(
        `gate wall time (median of ${r.runs}): ${r.medianWallMs} ms\nsum of scanner times: ${r.medianSumMs} ms (${per})\noverlap: ${r.overlap}x\n`,
      );
    },
    (err: unknown) => {
      process.stderr.write(`bench/gate: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exitCode = 1;
    },
  );
}

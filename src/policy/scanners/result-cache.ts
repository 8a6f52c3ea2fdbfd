// Scanner results (tfsec, checkov, OPA) kept across runs, so a re-check of an unchanged project does not scan again.
// The key is a digest of exactly what the scanner reads — every file of the checkout but .git (paths, modes,
// contents, symlink targets), the project dir within it and the plan JSON (without its timestamp) — plus the
// scanner's tool identity (binary path, size, mtime, the version it prints), the policy it is given (policy config,
// default-branch baseline, custom Rego files, the bundled Rego) and the App's own scanner code. Only the App writes
// an entry, from the scanner's own `ok` output, after checking that the files did not change while it scanned; a PR
// can therefore only hit an entry made from its own content. Entries are private files in the App's cache dir (never
// bound into a sandbox), validated on read, and the oldest go past MAX_ENTRIES.
import { createHash } from 'node:crypto';
import { lstat, mkdir, readdir, readFile, readlink, realpath, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { FindingSchema, FindingSourceSchema, toFinding } from '../../core/finding-schema.js';
import type { ScannerRun } from '../../core/types.js';
import { ownCacheSubdir } from '../../sandbox/cache-dir.js';
import { findTool, projectRoot, type ToolName } from '../../toolchain/tools.js';
import { checkovScanner } from './checkov.js';
import { probeVersion } from './common.js';
import { defaultPolicyDir, opaScanner } from './opa.js';
import { tfsecScanner } from './tfsec.js';
import type { ScanInput, Scanner } from './types.js';

/** Bumped when the entry format or what a scanner's result depends on changes in this code. */
const FORMAT = 1;
const MAX_ENTRIES = 2000;

/** The scanners whose results depend only on what they read (files, plan JSON, policy), and the tool each runs. */
const CACHEABLE = new Map<Scanner, ToolName>([
  [tfsecScanner, 'tfsec'],
  [checkovScanner, 'checkov'],
  [opaScanner, 'opa'],
]);
/** How each tool says its version (as the scanners ask it). */
const VERSION_ARGS: Partial<Record<ToolName, string[]>> = { opa: ['version'] };

const Entry = z.object({
  format: z.literal(FORMAT),
  key: z.string(),
  name: FindingSourceSchema,
  version: z.string().optional(),
  notes: z.array(z.string()).optional(),
  findings: z.array(FindingSchema),
});

/** Digest of every file under `root` (but a top-level .git): undefined when a symlink leads outside `root`. */
export async function treeDigest(root: string, signal?: AbortSignal): Promise<string | undefined> {
  const real = await realpath(root);
  const hash = createHash('sha256');
  const inside = (p: string) => p === real || p.startsWith(`${real}${sep}`);
  const visit = async (dir: string, rel: string): Promise<boolean> => {
    signal?.throwIfAborted();
    const names = (await readdir(dir)).sort();
    for (const name of names) {
      if (rel === '' && name === '.git') continue;
      const abs = join(dir, name);
      const path = rel === '' ? name : `${rel}/${name}`;
      const st = await lstat(abs);
      if (st.isSymbolicLink()) {
        const target = await realpath(abs).catch(() => undefined);
        if (target !== undefined && !inside(target)) return false;
        hash.update(`L\0${path}\0${await readlink(abs)}\n`);
      } else if (st.isDirectory()) {
        hash.update(`D\0${path}\n`);
        if (!(await visit(abs, path))) return false;
      } else if (st.isFile()) {
        const content = createHash('sha256')
          .update(await readFile(abs))
          .digest('hex');
        hash.update(`F\0${path}\0${(st.mode & 0o111) !== 0 ? 'x' : '-'}\0${content}\n`);
      } else {
        hash.update(`O\0${path}\n`);
      }
    }
    return true;
  };
  return (await visit(real, '')) ? hash.digest('hex') : undefined;
}

/** The tool as it is now: a different binary, a rebuilt one or another version gives another identity. */
export async function toolIdentity(tool: ToolName, signal?: AbortSignal): Promise<string | undefined> {
  const path = findTool(tool);
  if (!path) return undefined;
  const real = await realpath(path);
  const st = await stat(real);
  const version = await probeVersion(path, VERSION_ARGS[tool] ?? ['--version'], signal);
  if (!version) return undefined;
  return `${tool}\0${real}\0${st.size}\0${st.mtimeMs}\0${version}`;
}

let app: Promise<string | undefined> | undefined;
/**
 * The App's own code that shapes a result (this folder and policy/: parsers, rule mappings) and its bundled policies
 * (policies/: OPA rules, checkov severities), once per process: an upgraded App never reuses an older one's results.
 */
function appIdentity(): Promise<string | undefined> {
  app ??= (async () => {
    const here = dirname(fileURLToPath(import.meta.url));
    const hash = createHash('sha256');
    for (const dir of [here, dirname(here), join(projectRoot(), 'policies')]) {
      for (const name of (await readdir(dir)).sort()) {
        const st = await stat(join(dir, name));
        if (st.isFile())
          hash.update(
            `${dir}/${name}\0${createHash('sha256')
              .update(await readFile(join(dir, name)))
              .digest('hex')}\n`,
          );
      }
    }
    return hash.digest('hex');
  })().catch(() => undefined);
  return app;
}

/** The policy a scanner is given, as a stable string: Maps and Sets sorted, custom Rego read file by file. */
async function policyDigest(input: ScanInput): Promise<string | undefined> {
  const baseline = input.baseline
    ? {
        modules: [...input.baseline.modules].map(([k, v]) => [k, [...v].sort()]).sort(),
        providers: [...input.baseline.providers].sort(),
      }
    : null;
  let custom: string | null = null;
  if (input.customPolicies && 'dir' in input.customPolicies) {
    const d = await treeDigest(input.customPolicies.dir, input.signal).catch(() => undefined);
    if (d === undefined) return undefined;
    custom = `dir:${d}`;
  } else if (input.customPolicies) {
    custom = `error:${input.customPolicies.error}`;
  }
  // The App's bundled Rego (or the operator's INFRA_AGENT_POLICY_DIR) is policy too.
  const bundled = await treeDigest(defaultPolicyDir(), input.signal).catch(() => undefined);
  if (bundled === undefined) return undefined;
  return JSON.stringify({ config: input.config, baseline, custom, bundled });
}

function sortedByJson(items: unknown[]): unknown[] {
  return items
    .map((item) => [JSON.stringify(item), item] as const)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([, item]) => item);
}

/**
 * The plan the scanner reads, without the time it was made and with its unordered lists sorted: the same plan of the same state scans the same. A plan
 * file without the parsed JSON beside it is not keyed (undefined); no plan is `null`.
 */
function planDigest(input: ScanInput): string | null | undefined {
  if (input.planJson === undefined) return input.planJsonPath === undefined ? null : undefined;
  const plan = input.planJson;
  // Terraform lists `relevant_attributes` in map order, which changes from run to run: sorted, it says the same.
  const stable =
    plan !== null && typeof plan === 'object' && !Array.isArray(plan)
      ? Object.fromEntries(
          Object.entries(plan)
            .filter(([k]) => k !== 'timestamp')
            .map(([k, v]) => [k, k === 'relevant_attributes' && Array.isArray(v) ? sortedByJson(v) : v]),
        )
      : plan;
  return createHash('sha256').update(JSON.stringify(stable)).digest('hex');
}

/** The cache key for this scanner on this input, or undefined when the run cannot be cached. */
export async function scanKey(scanner: Scanner, input: ScanInput): Promise<string | undefined> {
  const tool = CACHEABLE.get(scanner);
  const plan = planDigest(input);
  if (!tool || plan === undefined || input.dataDir) return undefined;
  const root = await realpath(input.repoRoot);
  const dir = relative(root, await realpath(input.dir));
  if (dir.startsWith('..') || isAbsolute(dir)) return undefined;
  const [own, identity, files, policy] = await Promise.all([
    appIdentity(),
    toolIdentity(tool, input.signal),
    treeDigest(root, input.signal),
    policyDigest(input),
  ]);
  if (own === undefined || identity === undefined || files === undefined || policy === undefined) return undefined;
  return createHash('sha256')
    .update(JSON.stringify([FORMAT, own, scanner.name, identity, dir, files, policy, plan, input.planOnly === true]))
    .digest('hex');
}

function cacheDir(): string {
  return ownCacheSubdir('scan-results');
}

async function lookup(key: string): Promise<ScannerRun | undefined> {
  let text: string;
  try {
    text = await readFile(join(cacheDir(), `${key}.json`), 'utf8');
  } catch {
    return undefined;
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return undefined;
  }
  const parsed = Entry.safeParse(json);
  if (!parsed.success || parsed.data.key !== key) return undefined;
  const { name, version, notes, findings } = parsed.data;
  return {
    name,
    status: 'ok',
    durationMs: 0,
    ...(version !== undefined ? { version } : {}),
    ...(notes !== undefined ? { notes } : {}),
    findings: findings.map(toFinding),
  };
}

async function store(key: string, run: ScannerRun): Promise<void> {
  const dir = cacheDir();
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const entry: z.infer<typeof Entry> = {
    format: FORMAT,
    key,
    name: run.name,
    ...(run.version !== undefined ? { version: run.version } : {}),
    ...(run.notes !== undefined ? { notes: run.notes } : {}),
    findings: run.findings,
  };
  const tmp = join(dir, `.${key}.${process.pid}.${Date.now()}.tmp`);
  await writeFile(tmp, JSON.stringify(entry), { mode: 0o600 });
  await rename(tmp, join(dir, `${key}.json`));
  await prune(dir);
}

/** Past MAX_ENTRIES, the least recently written half goes. */
async function prune(dir: string): Promise<void> {
  const names = (await readdir(dir)).filter((n) => n.endsWith('.json'));
  if (names.length <= MAX_ENTRIES) return;
  const aged = await Promise.all(
    names.map(async (n) => ({ n, t: (await stat(join(dir, n)).catch(() => undefined))?.mtimeMs ?? 0 })),
  );
  aged.sort((a, b) => a.t - b.t);
  await Promise.all(aged.slice(0, names.length - MAX_ENTRIES / 2).map((a) => rm(join(dir, a.n), { force: true })));
}

/**
 * `scan()` unless this scanner already scanned exactly these files with this tool and policy: then its stored result.
 * A cache that cannot be read or written never fails the scan; `hit` says which way it went.
 */
export async function cachedScan(
  scanner: Scanner,
  input: ScanInput,
  scan: () => Promise<ScannerRun>,
): Promise<{ run: ScannerRun; hit: boolean }> {
  const started = Date.now();
  const key = await scanKey(scanner, input).catch(() => undefined);
  if (key === undefined) return { run: await scan(), hit: false };
  const found = await lookup(key).catch(() => undefined);
  if (found) return { run: { ...found, durationMs: Date.now() - started }, hit: true };
  const run = await scan();
  // Stored only from a good run whose files did not change while it scanned (init may write the lock file).
  if (run.status === 'ok') {
    const again = await scanKey(scanner, input).catch(() => undefined);
    if (again === key) await store(key, run).catch(() => undefined);
  }
  return { run, hit: false };
}

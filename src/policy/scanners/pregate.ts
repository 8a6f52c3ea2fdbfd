// The pre-plan guard. Runs on the code only, before `terraform init`/`plan` (and again on the modules `init`
// downloaded, before `validate`/`plan`), because those already execute code from the repo. Its rules, one file each
// under policy/guard/: PRE-EXEC-001 (code that runs on the host: hard, never overridable), PRE-SOURCE-001 (module or
// provider from outside the allow-list, or not pinned: soft), PRE-FILE-001 (file functions and state reads outside
// the module: hard), SEC-SECRET-001 (literal secrets: hard) and PRE-SUPPRESS-001 (scanner-silencing comments: hard).
// It reads `*.tf` and `*.tf.json` alike (override files are `.tf` files too) and the variables files. No external
// tool; it cannot be "not installed".
import type { PolicyConfig } from '../../config/schema.js';
import type { Finding, ScannerRun } from '../../core/types.js';
import type { HclBlockNode } from '../../repo/hcl.js';
import { makeFinding } from '../findings.js';
import { checkHostExec } from '../guard/exec.js';
import { checkFileAccess } from '../guard/files.js';
import { checkSecrets, checkVarFile } from '../guard/secrets.js';
import { type Baseline, checkModuleSource, checkSources, emptyBaseline } from '../guard/sources.js';
import { loadModuleTree, type ModuleTree, type TreeFile, type TreeModule } from '../module-tree.js';
import type { ScanInput, Scanner } from './types.js';

export { checkModuleSource };

const SUPPRESSION = /\b(checkov:skip|tfsec:ignore|trivy:ignore)\b/i;

/** Every comment of a Terraform file, one entry per line it spans (strings and heredocs are skipped). */
export function extractComments(source: string): { line: number; text: string }[] {
  const out: { line: number; text: string }[] = [];
  const lines = source.split('\n');
  let inBlock = false;
  let heredoc: string | undefined;
  for (let i = 0; i < lines.length; i++) {
    const text = lines[i] ?? '';
    const line = i + 1;
    if (heredoc !== undefined) {
      if (text.trim() === heredoc) heredoc = undefined;
      continue;
    }
    let j = 0;
    let inString = false;
    let depth = 0; // ${ … } inside a string
    while (j < text.length) {
      if (inBlock) {
        const end = text.indexOf('*/', j);
        out.push({ line, text: text.slice(j, end === -1 ? text.length : end) });
        if (end === -1) {
          j = text.length;
          break;
        }
        inBlock = false;
        j = end + 2;
        continue;
      }
      const c = text[j];
      if (inString) {
        if (c === '\\') j += 2;
        else if (c === '$' && text[j + 1] === '{') {
          depth++;
          j += 2;
        } else if (c === '}' && depth > 0) {
          depth--;
          j++;
        } else if (c === '"' && depth === 0) {
          inString = false;
          j++;
        } else j++;
        continue;
      }
      if (c === '"') {
        inString = true;
        j++;
      } else if (c === '#' || (c === '/' && text[j + 1] === '/')) {
        out.push({ line, text: text.slice(j) });
        break;
      } else if (c === '/' && text[j + 1] === '*') {
        inBlock = true;
        j += 2;
      } else if (c === '<' && text[j + 1] === '<') {
        const m = /^<<-?([A-Za-z_][A-Za-z0-9_-]*)\s*$/.exec(text.slice(j));
        if (m) {
          heredoc = m[1];
          break;
        }
        j += 2;
      } else j++;
    }
  }
  return out;
}

function enclosing(nodes: HclBlockNode[], line: number): HclBlockNode | undefined {
  return nodes.find((b) => b.line <= line && line <= b.endLine);
}

function blockAddress(prefix: string, b: HclBlockNode): string | undefined {
  if (b.kind === 'resource' && b.labels.length >= 2) return `${prefix}${b.labels[0]}.${b.labels[1]}`;
  if (b.kind === 'data' && b.labels.length >= 2) return `${prefix}data.${b.labels[0]}.${b.labels[1]}`;
  if (b.kind === 'module' && b.labels[0]) return `${prefix}module.${b.labels[0]}`;
  if (b.kind === 'provider' && b.labels[0]) return `${prefix}provider.${b.labels[0]}`;
  if (b.kind === 'variable' && b.labels[0]) return `${prefix}var.${b.labels[0]}`;
  return undefined;
}

function checkSuppressions(mod: TreeModule, file: TreeFile): Finding[] {
  const out: Finding[] = [];
  if (file.syntax !== 'hcl') return out; // JSON has no comments
  for (const c of extractComments(file.parsed.source)) {
    const m = SUPPRESSION.exec(c.text);
    if (!m) continue;
    const around = enclosing(file.nodes, c.line) ?? file.nodes.find((b) => b.line > c.line);
    out.push(
      makeFinding({
        ruleId: 'PRE-SUPPRESS-001',
        source: 'pregate',
        address: around ? blockAddress(mod.prefix, around) : undefined,
        file: file.rel,
        line: c.line,
        message: `"${m[1]}" comment silences a scanner`,
      }),
    );
  }
  return out;
}

export interface GuardOptions {
  /** What the default branch already uses (allowed module sources and providers). */
  baseline?: Baseline;
  /** After `terraform init`: its data dir, so the modules it downloaded are read too. */
  dataDir?: string;
  /** An already loaded tree (without downloaded modules), to parse files once. */
  tree?: ModuleTree;
  /**
   * After init: every non-local module must be found installed in the data dir. A module the guard cannot find
   * there is code it did not read, so the run fails closed instead of planning it.
   */
  requireInstalled?: boolean;
}

export interface GuardResult {
  run: ScannerRun;
  /** The literal secret values SEC-SECRET-001 found: the plan rendering masks them. Never rendered. */
  secrets: string[];
}

/** Runs every guard rule on a loaded module tree. */
export async function checkModuleTree(
  tree: ModuleTree,
  dir: string,
  config: PolicyConfig,
  baseline: Baseline = emptyBaseline(),
): Promise<{ findings: Finding[]; secrets: string[] }> {
  const findings: Finding[] = [];
  const secrets = new Set<string>();
  for (const mod of tree.modules) {
    for (const file of mod.files) {
      findings.push(...checkHostExec(mod, file), ...checkFileAccess(mod, file), ...checkSuppressions(mod, file));
      for (const hit of checkSecrets(mod, file)) {
        findings.push(hit.finding);
        secrets.add(hit.value);
      }
    }
    // Only the root module's variables files are ever loaded by terraform; a module's are still committed secrets.
    for (const file of mod.varFiles) {
      for (const hit of checkVarFile(mod, file)) {
        findings.push(hit.finding);
        secrets.add(hit.value);
      }
    }
  }
  findings.push(...(await checkSources(tree, dir, config, baseline)));
  for (const e of tree.escapes) {
    findings.push(
      makeFinding({
        ruleId: 'PRE-EXEC-001',
        source: 'pregate',
        address: e.address,
        file: e.file,
        line: e.line,
        message: e.why,
        remediation:
          'Keep modules inside the repository (or use an allow-listed, pinned registry module); code from elsewhere on the host is not reviewed.',
      }),
    );
  }
  return { findings, secrets: [...secrets] };
}

export async function runGuard(
  dir: string,
  repoRoot: string,
  config: PolicyConfig,
  opts: GuardOptions = {},
): Promise<GuardResult> {
  const started = Date.now();
  try {
    const t =
      opts.tree && !opts.dataDir
        ? opts.tree
        : await loadModuleTree(dir, repoRoot, opts.dataDir ? { dataDir: opts.dataDir } : {});
    const { findings, secrets } = await checkModuleTree(t, dir, config, opts.baseline);
    if (opts.requireInstalled && opts.dataDir && t.remote.length > 0) {
      const list = t.remote.map((r) => `${r.file}:${r.line}: ${r.address} (source "${r.source}")`).join('\n');
      return {
        run: {
          name: 'pregate',
          status: 'failed',
          durationMs: Date.now() - started,
          reason: `the guard could not find these modules where init installs them (${opts.dataDir}/modules/modules.json), so it could not read their code:\n${list}`,
          findings,
        },
        secrets,
      };
    }
    if (t.parseErrors.length > 0) {
      // Code we cannot read is code we cannot vouch for.
      const list = t.parseErrors.map((e) => `${e.file}:${e.line}: ${e.message}`).join('\n');
      return {
        run: {
          name: 'pregate',
          status: 'failed',
          durationMs: Date.now() - started,
          reason: `invalid HCL:\n${list}`,
          findings,
        },
        secrets,
      };
    }
    return {
      run: { name: 'pregate', status: 'ok', version: 'built-in', durationMs: Date.now() - started, findings },
      secrets,
    };
  } catch (err) {
    return {
      run: {
        name: 'pregate',
        status: 'failed',
        durationMs: Date.now() - started,
        reason: err instanceof Error ? err.message : String(err),
        findings: [],
      },
      secrets: [],
    };
  }
}

export async function runPregateOn(
  dir: string,
  repoRoot: string,
  config: PolicyConfig,
  tree?: ModuleTree,
  opts: Omit<GuardOptions, 'tree'> = {},
): Promise<ScannerRun> {
  return (await runGuard(dir, repoRoot, config, { ...opts, ...(tree ? { tree } : {}) })).run;
}

export const pregateScanner: Scanner = {
  name: 'pregate',
  run: (input: ScanInput) =>
    runPregateOn(input.dir, input.repoRoot, input.config, undefined, {
      ...(input.baseline ? { baseline: input.baseline } : {}),
      ...(input.dataDir ? { dataDir: input.dataDir } : {}),
    }),
};

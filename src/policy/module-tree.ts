// The Terraform files a gate run looks at: every `.tf` and `.tf.json` (override files included: they are `.tf` too)
// of the root module and of every module it calls, plus the variable files (`*.tfvars`, `*.tfvars.json`) beside
// them. Local sources (`./`, `../`) are resolved here, through realpath, and confined to the repository root (or, for
// a local call inside a downloaded module, to the data dir's module folder). After `terraform init`, the modules it
// downloaded are followed too: their keys are looked up in `<data dir>/modules/modules.json` and every directory it
// names must resolve inside `<data dir>/modules` (a committed or forged modules.json cannot point elsewhere).
// Parsed once with the project's HCL parser; used by the pre-plan guard, by OPA when there is no plan, and to give
// plan findings a file:line.
import { lstat, readdir, readFile, realpath, stat } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { z } from 'zod';
import { type HclBlockNode, HclParseError, type ParsedHclFile, parseHclFile, scanBlocks } from '../repo/hcl.js';
import { parseTfJson, parseTfvarsJson } from './tf-json.js';

const MAX_FILE_BYTES = 2 * 1024 * 1024;
const MAX_MODULES = 200;

export interface TreeFile {
  abs: string;
  /** Repo-relative, posix separators. */
  rel: string;
  parsed: ParsedHclFile;
  /** Every block with nested blocks and attribute lines. */
  nodes: HclBlockNode[];
  syntax: 'hcl' | 'json';
}

export interface TreeModule {
  abs: string;
  rel: string;
  /** Address prefix of what this module declares: '' for the root, 'module.app.' for a child. */
  prefix: string;
  /** The module's key in modules.json: '' for the root, 'app.net' for module.app.module.net. */
  key: string;
  /** The `source` that called it (undefined for the root). */
  source?: string;
  /** Downloaded by `terraform init` (read from the data dir), not part of the repository. */
  installed: boolean;
  files: TreeFile[];
  /** `*.tfvars` / `*.tfvars.json` in the module's folder (the root's are what terraform loads). */
  varFiles: TreeFile[];
}

export interface ModuleEscape {
  file: string;
  line: number;
  address: string;
  source: string;
  /** Why it is refused, for the finding's message. */
  why: string;
}

/** A call of a non-local module that was not followed (before init, or init did not install it). */
export interface RemoteCall {
  file: string;
  line: number;
  address: string;
  key: string;
  source: string;
  version?: unknown;
}

export interface LoadOptions {
  /** Terraform's data dir after `init` (TF_DATA_DIR, default `<dir>/.terraform`): downloaded modules are read too. */
  dataDir?: string;
}

export interface ModuleTree {
  repoRoot: string;
  modules: TreeModule[];
  parseErrors: { file: string; line: number; message: string }[];
  /** Module sources (or files) that resolve outside where they may come from. */
  escapes: ModuleEscape[];
  /** Calls of remote modules that were not read (no data dir given, or not installed). */
  remote: RemoteCall[];
  locate(address: string): { file: string; line: number } | undefined;
}

/** How files of downloaded modules are named in findings (they are not in the repository). */
export const DATA_DIR_PREFIX = '.terraform/modules/';

export function toRepoPath(repoRoot: string, abs: string): string {
  const rel = relative(repoRoot, abs);
  return (rel === '' ? '.' : rel).split(sep).join('/');
}

export function isInside(root: string, path: string): boolean {
  if (path === root) return true;
  const rel = relative(root, path);
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel);
}

export function isLocalSource(source: string): boolean {
  return source.startsWith('./') || source.startsWith('../') || source === '.' || source === '..';
}

function records(value: unknown): Record<string, unknown>[] {
  if (Array.isArray(value))
    return value.filter((v): v is Record<string, unknown> => typeof v === 'object' && v !== null);
  if (typeof value === 'object' && value !== null) return [value as Record<string, unknown>];
  return [];
}

/** `body[kind][label]` → the list of block bodies hcl2json produced for it. */
export function labelled(body: Record<string, unknown>, kind: string): [string, Record<string, unknown>[]][] {
  const group = body[kind];
  if (typeof group !== 'object' || group === null || Array.isArray(group)) return [];
  return Object.entries(group as Record<string, unknown>).map(([label, v]) => [label, records(v)]);
}

/** `body.resource[type][name]` → [type, name, bodies]. */
export function doublyLabelled(
  body: Record<string, unknown>,
  kind: string,
): [string, string, Record<string, unknown>[]][] {
  return labelled(body, kind).flatMap(([type, byName]) =>
    byName.flatMap((names) =>
      Object.entries(names).map(([name, v]) => [type, name, records(v)] as [string, string, Record<string, unknown>[]]),
    ),
  );
}

export function findTopBlock(nodes: HclBlockNode[], kind: string, labels: string[]): HclBlockNode | undefined {
  return nodes.find((b) => b.kind === kind && labels.every((l, i) => b.labels[i] === l));
}

const ModulesJson = z.object({
  Modules: z.array(z.object({ Key: z.string(), Source: z.string(), Dir: z.string() }).loose()).default([]),
});

function isTerraformFile(name: string): 'tf' | 'tfvars' | undefined {
  if (name.endsWith('.tf') || name.endsWith('.tf.json')) return 'tf';
  if (name.endsWith('.tfvars') || name.endsWith('.tfvars.json')) return 'tfvars';
  return undefined;
}

async function parseFile(abs: string, rel: string, source: string, kind: 'tf' | 'tfvars'): Promise<TreeFile> {
  if (abs.endsWith('.json')) {
    const parsed = kind === 'tf' ? parseTfJson(rel, source) : parseTfvarsJson(rel, source);
    return { abs, rel, parsed, nodes: parsed.nodes, syntax: 'json' };
  }
  const parsed: ParsedHclFile = await parseHclFile(rel, source);
  return { abs, rel, parsed, nodes: kind === 'tf' ? scanBlocks(source) : [], syntax: 'hcl' };
}

async function readModuleFiles(
  absDir: string,
  repoRoot: string,
  confine: string,
): Promise<{ files: TreeFile[]; varFiles: TreeFile[]; errors: ModuleTree['parseErrors']; outside: string[] }> {
  const files: TreeFile[] = [];
  const varFiles: TreeFile[] = [];
  const errors: ModuleTree['parseErrors'] = [];
  const outside: string[] = [];
  let names: string[];
  try {
    names = (await readdir(absDir)).filter((n) => isTerraformFile(n) !== undefined).sort();
  } catch {
    return { files, varFiles, errors, outside };
  }
  for (const name of names) {
    const kind = isTerraformFile(name);
    if (!kind) continue;
    const abs = join(absDir, name);
    const rel = toRepoPath(repoRoot, abs);
    const link = await lstat(abs);
    if (link.isSymbolicLink()) {
      const real = await realpath(abs).catch(() => undefined);
      if (!real || !isInside(confine, real)) {
        outside.push(rel);
        continue;
      }
    }
    const info = await stat(abs);
    if (!info.isFile()) continue;
    if (info.size > MAX_FILE_BYTES) {
      errors.push({ file: rel, line: 1, message: `file is larger than ${MAX_FILE_BYTES} bytes and was not read` });
      continue;
    }
    const source = await readFile(abs, 'utf8');
    try {
      const file = await parseFile(abs, rel, source, kind);
      (kind === 'tf' ? files : varFiles).push(file);
    } catch (err) {
      if (err instanceof HclParseError) errors.push({ file: rel, line: err.line, message: err.message });
      else throw err;
    }
  }
  return { files, varFiles, errors, outside };
}

/** modules.json of a data dir: key → absolute module dir, only for dirs that resolve inside `<dataDir>/modules`. */
async function installedModules(
  dataDir: string,
  workDir: string,
): Promise<{ dirs: Map<string, string>; outside: Map<string, string>; root?: string }> {
  const dirs = new Map<string, string>();
  const outside = new Map<string, string>();
  const modulesDir = join(resolve(workDir, dataDir), 'modules');
  const root = await realpath(modulesDir).catch(() => undefined);
  if (!root) return { dirs, outside };
  let text: string;
  try {
    const file = join(modulesDir, 'modules.json');
    if ((await lstat(file)).isSymbolicLink()) return { dirs, outside, root };
    text = await readFile(file, 'utf8');
  } catch {
    return { dirs, outside, root };
  }
  let parsed: z.infer<typeof ModulesJson>;
  try {
    parsed = ModulesJson.parse(JSON.parse(text));
  } catch {
    return { dirs, outside, root };
  }
  for (const m of parsed.Modules) {
    if (m.Key === '') continue;
    const real = await realpath(resolve(workDir, m.Dir)).catch(() => undefined);
    if (real && isInside(root, real)) dirs.set(m.Key, real);
    else outside.set(m.Key, m.Dir);
  }
  return { dirs, outside, root };
}

export async function loadModuleTree(dir: string, repoRoot: string, opts: LoadOptions = {}): Promise<ModuleTree> {
  const root = await realpath(repoRoot);
  const start = await realpath(resolve(dir));
  if (!isInside(root, start)) throw new Error(`${dir} is outside the repository root ${repoRoot}`);
  const installed = opts.dataDir
    ? await installedModules(opts.dataDir, start)
    : { dirs: new Map<string, string>(), outside: new Map<string, string>() };
  const modules: TreeModule[] = [];
  const parseErrors: ModuleTree['parseErrors'] = [];
  const escapes: ModuleEscape[] = [];
  const remote: RemoteCall[] = [];
  const seen = new Set<string>();
  interface Next {
    abs: string;
    prefix: string;
    key: string;
    source?: string;
    /** Where this module's own local calls must stay. */
    confine: string;
    installed: boolean;
  }
  const queue: Next[] = [{ abs: start, prefix: '', key: '', confine: root, installed: false }];
  while (queue.length > 0 && modules.length < MAX_MODULES) {
    const next = queue.shift();
    if (!next) continue;
    // The same folder called twice is two module instances with two addresses; read it once per address.
    const seenKey = `${next.abs}\u0000${next.prefix}`;
    if (seen.has(seenKey)) continue;
    seen.add(seenKey);
    const shown = next.installed && installed.root ? `${DATA_DIR_PREFIX}${toRepoPath(installed.root, next.abs)}` : '';
    const { files, varFiles, errors, outside } = await readModuleFiles(
      next.abs,
      next.installed && installed.root ? installed.root : root,
      next.confine,
    );
    if (shown) for (const f of [...files, ...varFiles]) f.rel = `${DATA_DIR_PREFIX}${f.rel}`;
    for (const e of errors) parseErrors.push(shown ? { ...e, file: `${DATA_DIR_PREFIX}${e.file}` } : e);
    for (const o of outside)
      escapes.push({
        file: shown ? `${DATA_DIR_PREFIX}${o}` : o,
        line: 1,
        address: next.prefix.replace(/\.$/, '') || '(root module)',
        source: o,
        why: `${o} is a symbolic link to a file outside the repository`,
      });
    const mod: TreeModule = {
      abs: next.abs,
      rel: shown || toRepoPath(root, next.abs),
      prefix: next.prefix,
      key: next.key,
      installed: next.installed,
      files,
      varFiles,
    };
    if (next.source !== undefined) mod.source = next.source;
    modules.push(mod);
    for (const file of files) {
      for (const [name, bodies] of labelled(file.parsed.body, 'module')) {
        const call = bodies[0];
        const source = call?.['source'];
        if (typeof source !== 'string') continue;
        const line = findTopBlock(file.nodes, 'module', [name])?.line ?? 1;
        const address = `${next.prefix}module.${name}`;
        const key = next.key ? `${next.key}.${name}` : name;
        const prefix = `${address}.`;
        if (isLocalSource(source)) {
          const target = resolve(next.abs, source);
          let real: string;
          try {
            real = await realpath(target);
          } catch {
            real = target; // missing: terraform init reports it; still confine the path
          }
          if (!isInside(next.confine, real)) {
            escapes.push({
              file: file.rel,
              line,
              address,
              source,
              why: `module source "${source}" resolves outside the ${next.installed ? 'downloaded module' : 'repository'}`,
            });
            continue;
          }
          queue.push({ abs: real, prefix, key, source, confine: next.confine, installed: next.installed });
          continue;
        }
        const dirOf = installed.dirs.get(key);
        if (dirOf) {
          queue.push({ abs: dirOf, prefix, key, source, confine: installed.root ?? dirOf, installed: true });
          continue;
        }
        const forged = installed.outside.get(key);
        if (forged !== undefined) {
          escapes.push({
            file: file.rel,
            line,
            address,
            source,
            why: `modules.json places module "${key}" at ${forged}, outside the data dir's modules folder`,
          });
          continue;
        }
        remote.push({ file: file.rel, line, address, key, source, version: call?.['version'] });
      }
    }
  }

  const index = new Map<string, { file: string; line: number }>();
  for (const mod of modules) {
    for (const file of mod.files) {
      for (const b of file.nodes) {
        const at = { file: file.rel, line: b.line };
        if (b.kind === 'resource' && b.labels.length >= 2) index.set(`${mod.prefix}${b.labels[0]}.${b.labels[1]}`, at);
        else if (b.kind === 'data' && b.labels.length >= 2)
          index.set(`${mod.prefix}data.${b.labels[0]}.${b.labels[1]}`, at);
        else if (b.kind === 'module' && b.labels[0]) index.set(`${mod.prefix}module.${b.labels[0]}`, at);
        else if (b.kind === 'variable' && b.labels[0]) index.set(`${mod.prefix}var.${b.labels[0]}`, at);
        else if (b.kind === 'provider' && b.labels[0] && !index.has(`${mod.prefix}provider.${b.labels[0]}`))
          index.set(`${mod.prefix}provider.${b.labels[0]}`, at);
      }
    }
  }
  return {
    repoRoot: root,
    modules,
    parseErrors,
    escapes,
    remote,
    locate: (address) => index.get(address.replace(/\[[^\]]*\]/g, '')),
  };
}

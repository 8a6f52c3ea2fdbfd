// The Terraform files a gate run looks at: every `.tf` of the root module and of every local module it calls
// (`./` and `../` sources, followed through realpath and confined to the repository root). Parsed once with the
// project's HCL parser; used by the pre-plan guard, by OPA when there is no plan, and to give plan findings a
// file:line.
import { readdir, readFile, realpath, stat } from 'node:fs/promises';
import { join, relative, resolve, sep } from 'node:path';
import { type HclBlockNode, HclParseError, type ParsedHclFile, parseHclFile, scanBlocks } from '../repo/hcl.js';

const MAX_FILE_BYTES = 2 * 1024 * 1024;
const MAX_MODULES = 200;

export interface TreeFile {
  abs: string;
  /** Repo-relative, posix separators. */
  rel: string;
  parsed: ParsedHclFile;
  /** Every block with nested blocks and attribute lines. */
  nodes: HclBlockNode[];
}

export interface TreeModule {
  abs: string;
  rel: string;
  /** Address prefix of what this module declares: '' for the root, 'module.app.' for a child. */
  prefix: string;
  files: TreeFile[];
}

export interface ModuleEscape {
  file: string;
  line: number;
  address: string;
  source: string;
}

export interface ModuleTree {
  repoRoot: string;
  modules: TreeModule[];
  parseErrors: { file: string; line: number; message: string }[];
  /** Local module sources that resolve outside the repository root. */
  escapes: ModuleEscape[];
  locate(address: string): { file: string; line: number } | undefined;
}

export function toRepoPath(repoRoot: string, abs: string): string {
  const rel = relative(repoRoot, abs);
  return (rel === '' ? '.' : rel).split(sep).join('/');
}

function isInside(root: string, path: string): boolean {
  return path === root || path.startsWith(root.endsWith(sep) ? root : root + sep);
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

async function readModuleFiles(
  absDir: string,
  repoRoot: string,
): Promise<{ files: TreeFile[]; errors: ModuleTree['parseErrors'] }> {
  const files: TreeFile[] = [];
  const errors: ModuleTree['parseErrors'] = [];
  let names: string[];
  try {
    names = (await readdir(absDir)).filter((n) => n.endsWith('.tf')).sort();
  } catch {
    return { files, errors };
  }
  for (const name of names) {
    const abs = join(absDir, name);
    const rel = toRepoPath(repoRoot, abs);
    const info = await stat(abs);
    if (!info.isFile()) continue;
    if (info.size > MAX_FILE_BYTES) {
      errors.push({ file: rel, line: 1, message: `file is larger than ${MAX_FILE_BYTES} bytes and was not read` });
      continue;
    }
    const source = await readFile(abs, 'utf8');
    try {
      const parsed = await parseHclFile(rel, source);
      files.push({ abs, rel, parsed, nodes: scanBlocks(source) });
    } catch (err) {
      if (err instanceof HclParseError) errors.push({ file: rel, line: err.line, message: err.message });
      else throw err;
    }
  }
  return { files, errors };
}

export async function loadModuleTree(dir: string, repoRoot: string): Promise<ModuleTree> {
  const root = await realpath(repoRoot);
  const start = await realpath(resolve(dir));
  if (!isInside(root, start)) throw new Error(`${dir} is outside the repository root ${repoRoot}`);
  const modules: TreeModule[] = [];
  const parseErrors: ModuleTree['parseErrors'] = [];
  const escapes: ModuleEscape[] = [];
  const seen = new Set<string>();
  const queue: { abs: string; prefix: string }[] = [{ abs: start, prefix: '' }];
  while (queue.length > 0 && modules.length < MAX_MODULES) {
    const next = queue.shift();
    if (!next || seen.has(next.abs)) continue;
    seen.add(next.abs);
    const { files, errors } = await readModuleFiles(next.abs, root);
    parseErrors.push(...errors);
    const mod: TreeModule = { abs: next.abs, rel: toRepoPath(root, next.abs), prefix: next.prefix, files };
    modules.push(mod);
    for (const file of files) {
      for (const [name, bodies] of labelled(file.parsed.body, 'module')) {
        const source = bodies[0]?.['source'];
        if (typeof source !== 'string' || !isLocalSource(source)) continue;
        const line = findTopBlock(file.nodes, 'module', [name])?.line ?? 1;
        const target = resolve(next.abs, source);
        let real: string;
        try {
          real = await realpath(target);
        } catch {
          real = target; // missing: terraform init reports it; still confine the path
        }
        if (!isInside(root, real)) {
          escapes.push({ file: file.rel, line, address: `${next.prefix}module.${name}`, source });
          continue;
        }
        queue.push({ abs: real, prefix: `${next.prefix}module.${name}.` });
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
    locate: (address) => index.get(address.replace(/\[[^\]]*\]/g, '')),
  };
}

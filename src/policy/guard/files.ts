// PRE-FILE-001: reading (or writing) files outside the module. Terraform's file functions run during plan, on the
// plan host; the sandbox is the wall, this is the early, readable warning with file:line and what to do instead.
// Flagged: a file function whose path is absolute, starts at `~`, climbs out with `..`, names /proc, /dev or /sys,
// or is not anchored at `path.module`/`path.root` (a variable, a local, `format()`, `join()`, a decoding function:
// anything that can build an absolute path); `data "terraform_remote_state"` with the local backend (it reads
// another project's state file on the worker); `local_file` reading outside the module.
import type { Finding } from '../../core/types.js';
import { makeFinding } from '../findings.js';
import type { TreeFile, TreeModule } from '../module-tree.js';
import {
  addressOf,
  attributeLine,
  bodies,
  closing,
  eachBlock,
  interpolations,
  lineOf,
  literalString,
  nodeOf,
  stringsIn,
} from './blocks.js';

export const FILE_FUNCTIONS = [
  'file',
  'filebase64',
  'fileset',
  'templatefile',
  'filesha1',
  'filesha256',
  'filesha512',
  'filemd5',
  'fileexists',
  'filebase64sha256',
  'filebase64sha512',
] as const;

const CALL = new RegExp(`(?<![A-Za-z0-9_.:])(${FILE_FUNCTIONS.join('|')})\\s*\\(`, 'g');
const ANCHOR = /^(?:path\.(?:module|root|cwd)\b|"\$\{path\.(?:module|root|cwd)\}|abspath\(\s*path\.(?:module|root)\b)/;
const DECODERS =
  /(?<![A-Za-z0-9_.])(base64decode|textdecodebase64|base64gunzip|strrev|replace|regex|regexall|jsondecode|yamldecode|csvdecode|pathexpand|format|formatlist|join|templatestring)\s*\(/;
const RELATIVE_LITERAL = /^"(?:\.\/)?[A-Za-z0-9_@-][^"]*"?/;

/** Top-level arguments of a call's argument text (split on commas outside brackets and strings). */
export function splitArgs(text: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let inString = false;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
      else if (c === '$' && text[i + 1] === '{') {
        i = closing(text, i + 2, '{', '}');
      }
      continue;
    }
    if (c === '"') inString = true;
    else if (c === '(' || c === '[' || c === '{') depth++;
    else if (c === ')' || c === ']' || c === '}') depth--;
    else if (c === ',' && depth === 0) {
      out.push(text.slice(start, i).trim());
      start = i + 1;
    }
  }
  const last = text.slice(start).trim();
  if (last) out.push(last);
  return out;
}

/** Why a path expression may leave the module, or undefined when it stays under path.module/path.root. */
export function judgePath(expr: string, opts: { pattern?: boolean } = {}): string | undefined {
  const e = expr.trim();
  // The same path with the template syntax squeezed out: `"${"."}${"."}/x"` is `../x`.
  const squeezed = e.replace(/\$\{|[{}"]/g, '');
  if (/(^|[/\\\s])\.\.(?=[/\\\s]|$)/.test(squeezed)) return 'climbs out of the module with `..`';
  if (/"\s*~|^~/.test(e)) return 'starts at the home directory (`~`)';
  if (/(^|["'/\\\s])\.\.(?=["'/\\\s]|$)/.test(e)) return 'climbs out of the module with `..`';
  if (/(?:^|")\s*\/(?:proc|dev|sys)\b/.test(e)) return 'reads the host system (/proc, /dev, /sys)';
  if (/(^|[^$])"\s*\//.test(e) || /^\//.test(e)) return 'uses an absolute path';
  if (opts.pattern) return undefined; // fileset's pattern is relative to its path by construction
  const decoder = DECODERS.exec(e);
  if (decoder) return `builds its path with \`${decoder[1]}()\`, which can hide any path`;
  if (ANCHOR.test(e) || RELATIVE_LITERAL.test(e)) return undefined;
  const head = /^[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)?/.exec(e)?.[0] ?? e.slice(0, 20);
  return `builds its path from \`${head}\`, which may point anywhere`;
}

/** File-function calls inside the interpolations of one string: [function, argument text]. */
export function fileCalls(value: string): { fn: string; args: string }[] {
  const out: { fn: string; args: string }[] = [];
  for (const expr of interpolations(value)) {
    for (const m of expr.matchAll(CALL)) {
      const open = (m.index ?? 0) + m[0].length;
      const end = closing(expr, open, '(', ')');
      out.push({ fn: m[1] ?? 'file', args: expr.slice(open, end) });
      // Calls nested in this call's arguments are found by the same loop (matchAll goes on from here).
    }
  }
  return out;
}

/** Literal values a module's variables (defaults, variables files) and locals can take: `var.x` → ["…"]. */
type KnownValues = Map<string, string[]>;
const knownCache = new WeakMap<TreeModule, KnownValues>();

function knownValues(mod: TreeModule): KnownValues {
  const cached = knownCache.get(mod);
  if (cached) return cached;
  const known: KnownValues = new Map();
  const add = (key: string, v: unknown) => {
    const lit = literalString(v);
    if (lit !== undefined) known.set(key, [...(known.get(key) ?? []), lit]);
  };
  for (const f of mod.files) {
    for (const ref of eachBlock(f.parsed.body)) {
      if (ref.kind === 'variable' && ref.labels[0]) add(`var.${ref.labels[0]}`, ref.body['default']);
      if (ref.kind === 'locals') for (const [k, v] of Object.entries(ref.body)) add(`local.${k}`, v);
    }
  }
  for (const f of mod.varFiles) for (const [k, v] of Object.entries(f.parsed.body)) add(`var.${k}`, v);
  knownCache.set(mod, known);
  return known;
}

function judgeCall(fn: string, args: string, known: KnownValues): string | undefined {
  const parts = splitArgs(args);
  const path = parts[0] ?? '';
  const why = judgePath(path) ?? (fn === 'fileset' ? judgePath(parts[1] ?? '', { pattern: true }) : undefined);
  if (why) return why;
  // `"${path.module}/${var.name}"` is anchored, but the variable's value may climb out: judge what it can be.
  for (const m of args.matchAll(/\b((?:var|local)\.[A-Za-z0-9_-]+)/g)) {
    for (const value of known.get(m[1] ?? '') ?? []) {
      const bad = judgePath(JSON.stringify(value), { pattern: true });
      if (bad) return `takes \`${m[1]}\`, whose value ${JSON.stringify(value.slice(0, 60))} ${bad}`;
    }
  }
  return undefined;
}

export function checkFileAccess(mod: TreeModule, file: TreeFile): Finding[] {
  const out: Finding[] = [];
  const add = (address: string | undefined, line: number | undefined, message: string, remediation: string) =>
    out.push(
      makeFinding({ ruleId: 'PRE-FILE-001', source: 'pregate', address, file: file.rel, line, message, remediation }),
    );
  for (const ref of eachBlock(file.parsed.body)) {
    const node = nodeOf(file, ref);
    const address = addressOf(mod, ref);
    const seen = new Set<string>();
    // A check block's nested data sources are yielded as blocks of their own.
    for (const { value } of stringsIn(ref.kind === 'check' ? { ...ref.body, data: undefined } : ref.body)) {
      for (const call of fileCalls(value)) {
        const why = judgeCall(call.fn, call.args, knownValues(mod));
        const key = `${call.fn}(${call.args})`;
        if (!why || seen.has(key)) continue;
        seen.add(key);
        const shown = key.length > 80 ? `${key.slice(0, 77)}…` : key;
        add(
          address,
          lineOf(file, node, call.args.slice(0, 40)) ?? lineOf(file, node, `${call.fn}(`) ?? node?.line,
          `\`${shown}\` ${why}: file functions run on the plan host and may only read files of the module`,
          'Read files from inside the module: `file("${path.module}/files/x")`. Pass other values in as variables, or use a data source of your cloud (e.g. a secrets manager) instead of a file on the worker.',
        );
      }
    }
    // data "terraform_remote_state" with the local backend: another project's state file on the worker.
    if (ref.kind === 'data' && ref.labels[0] === 'terraform_remote_state') {
      const backend = ref.body['backend'];
      const lit = literalString(backend);
      if (lit === 'local' || lit === undefined) {
        const config = bodies(ref.body['config'])[0] ?? {};
        const path = typeof config['path'] === 'string' ? ` (path ${JSON.stringify(config['path'])})` : '';
        add(
          address,
          attributeLine(file, node, 'backend') ?? node?.line,
          lit === 'local'
            ? `terraform_remote_state with the local backend reads a state file from the plan host's disk${path}`
            : 'terraform_remote_state with a backend chosen by an expression may read a state file from the plan host',
          "Read another project's outputs from its remote backend (s3, azurerm, gcs, remote…), or pass the values in as variables.",
        );
      }
    }
    // local_file and friends read a file of the plan host: the data sources' `filename`, the resources' `source`.
    // (Where a resource *writes* is the sandbox's business: operators legitimately write outside the module.)
    const localTypes = new Set(['local_file', 'local_sensitive_file']);
    if ((ref.kind === 'resource' || ref.kind === 'data') && localTypes.has(ref.labels[0] ?? '')) {
      for (const attr of ref.kind === 'data' ? ['filename'] : ['source']) {
        const v = ref.body[attr];
        if (typeof v !== 'string') continue;
        const lit = literalString(v);
        const expr = lit !== undefined ? JSON.stringify(lit) : (interpolations(v)[0] ?? v);
        const why = judgePath(expr);
        if (why)
          add(
            address,
            attributeLine(file, node, attr) ?? node?.line,
            `${ref.labels[0]}.${attr} ${why}: it reads a file on the plan/apply host`,
            "Keep local files under `${path.module}`; use your cloud's storage or secrets service for anything else.",
          );
      }
    }
  }
  return out;
}

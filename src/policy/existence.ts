// What would exist without a plan: `count`, `for_each` and `create`-style flags of resources and module calls,
// resolved from variable defaults, *.tfvars and literal locals/module arguments. A resource whose count is 0 (or whose
// for_each is empty) is not created; one whose flag cannot be resolved here "may not be created", and a finding on
// it is at most soft. The expression language is the small part of Terraform's that such flags use: literals,
// var./local. references, ! && || == != < > <= >= + -, the conditional operator, parentheses and length()/to*().

import { realpathSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseHclFile } from '../repo/hcl.js';
import { doublyLabelled, isLocalSource, labelled, type ModuleTree, type TreeModule } from './module-tree.js';

export const UNKNOWN: unique symbol = Symbol('unknown');
type Value = null | boolean | number | string | Value[] | { [k: string]: Value } | typeof UNKNOWN;

export interface Existence {
  status: 'yes' | 'no' | 'maybe';
  /** For 'no' and 'maybe': the expression that decided, e.g. `count = var.create ? 1 : 0`. */
  why?: string;
}

export interface Scope {
  vars: Record<string, Value>;
  locals: Record<string, Value>;
}

// ---- a tiny evaluator ----------------------------------------------------------------------------------------------

type Tok = { t: 'num'; v: number } | { t: 'str'; v: string } | { t: 'id'; v: string } | { t: 'op'; v: string };

function tokenize(src: string): Tok[] | undefined {
  const out: Tok[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i] ?? '';
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const two = src.slice(i, i + 2);
    if (['&&', '||', '==', '!=', '<=', '>='].includes(two)) {
      out.push({ t: 'op', v: two });
      i += 2;
      continue;
    }
    if ('?:!<>+-()[]{},'.includes(c)) {
      out.push({ t: 'op', v: c });
      i++;
      continue;
    }
    if (/[0-9]/.test(c)) {
      const m = /^[0-9]+(\.[0-9]+)?/.exec(src.slice(i));
      out.push({ t: 'num', v: Number(m?.[0]) });
      i += m?.[0].length ?? 1;
      continue;
    }
    if (c === '"') {
      let j = i + 1;
      let s = '';
      while (j < src.length && src[j] !== '"') {
        if (src[j] === '\\') j++;
        if (src[j] === '$' && src[j + 1] === '{') return undefined; // nested template
        s += src[j] ?? '';
        j++;
      }
      if (j >= src.length) return undefined;
      out.push({ t: 'str', v: s });
      i = j + 1;
      continue;
    }
    const m = /^[A-Za-z_][A-Za-z0-9_-]*(\.[A-Za-z_][A-Za-z0-9_-]*|\[[^\]]*\])*/.exec(src.slice(i));
    if (!m) return undefined;
    out.push({ t: 'id', v: m[0] });
    i += m[0].length;
  }
  return out;
}

const isUnknown = (v: Value): v is typeof UNKNOWN => v === UNKNOWN;

function truthy(v: Value): boolean | typeof UNKNOWN {
  if (isUnknown(v)) return UNKNOWN;
  if (typeof v === 'boolean') return v;
  if (v === 'true') return true;
  if (v === 'false') return false;
  return UNKNOWN;
}

function num(v: Value): number | typeof UNKNOWN {
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && /^-?[0-9]+(\.[0-9]+)?$/.test(v)) return Number(v);
  return UNKNOWN;
}

function equal(a: Value, b: Value): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

class Parser {
  private i = 0;
  constructor(
    private readonly toks: Tok[],
    private readonly scope: Scope,
  ) {}

  parse(): Value {
    const v = this.ternary();
    return this.i === this.toks.length ? v : UNKNOWN;
  }

  private peek(v: string): boolean {
    const t = this.toks[this.i];
    return t?.t === 'op' && t.v === v;
  }

  private eat(v: string): boolean {
    if (!this.peek(v)) return false;
    this.i++;
    return true;
  }

  private ternary(): Value {
    const cond = this.or();
    if (!this.eat('?')) return cond;
    const a = this.ternary();
    if (!this.eat(':')) return UNKNOWN;
    const b = this.ternary();
    const c = truthy(cond);
    if (c === UNKNOWN) return !isUnknown(a) && !isUnknown(b) && equal(a, b) ? a : UNKNOWN;
    return c ? a : b;
  }

  private or(): Value {
    let v = this.and();
    while (this.eat('||')) {
      const r = this.and();
      const a = truthy(v);
      const b = truthy(r);
      v = a === true || b === true ? true : a === UNKNOWN || b === UNKNOWN ? UNKNOWN : false;
    }
    return v;
  }

  private and(): Value {
    let v = this.eq();
    while (this.eat('&&')) {
      const r = this.eq();
      const a = truthy(v);
      const b = truthy(r);
      v = a === false || b === false ? false : a === UNKNOWN || b === UNKNOWN ? UNKNOWN : true;
    }
    return v;
  }

  private eq(): Value {
    let v = this.cmp();
    for (;;) {
      const op = this.eat('==') ? '==' : this.eat('!=') ? '!=' : undefined;
      if (!op) return v;
      const r = this.cmp();
      v = isUnknown(v) || isUnknown(r) ? UNKNOWN : op === '==' ? equal(v, r) : !equal(v, r);
    }
  }

  private cmp(): Value {
    let v = this.add();
    for (;;) {
      const op = ['<=', '>=', '<', '>'].find((o) => this.eat(o));
      if (!op) return v;
      const a = num(v);
      const b = num(this.add());
      if (a === UNKNOWN || b === UNKNOWN) v = UNKNOWN;
      else v = op === '<' ? a < b : op === '>' ? a > b : op === '<=' ? a <= b : a >= b;
    }
  }

  private add(): Value {
    let v = this.unary();
    for (;;) {
      const op = this.eat('+') ? '+' : this.eat('-') ? '-' : undefined;
      if (!op) return v;
      const a = num(v);
      const b = num(this.unary());
      v = a === UNKNOWN || b === UNKNOWN ? UNKNOWN : op === '+' ? a + b : a - b;
    }
  }

  private unary(): Value {
    if (this.eat('!')) {
      const t = truthy(this.unary());
      return t === UNKNOWN ? UNKNOWN : !t;
    }
    if (this.eat('-')) {
      const n = num(this.unary());
      return n === UNKNOWN ? UNKNOWN : -n;
    }
    return this.primary();
  }

  private list(close: string): Value[] | undefined {
    const items: Value[] = [];
    if (this.eat(close)) return items;
    for (;;) {
      items.push(this.ternary());
      if (this.eat(close)) return items;
      if (!this.eat(',')) return undefined;
    }
  }

  private primary(): Value {
    const t = this.toks[this.i++];
    if (!t) return UNKNOWN;
    if (t.t === 'num' || t.t === 'str') return t.v;
    if (t.t === 'op') {
      if (t.v === '(') {
        const v = this.ternary();
        return this.eat(')') ? v : UNKNOWN;
      }
      if (t.v === '[') {
        const items = this.list(']');
        return items ?? UNKNOWN;
      }
      if (t.v === '{') return this.eat('}') ? {} : UNKNOWN;
      return UNKNOWN;
    }
    if (t.v === 'true') return true;
    if (t.v === 'false') return false;
    if (t.v === 'null') return null;
    if (this.peek('(')) {
      this.i++;
      const args = this.list(')');
      if (!args) return UNKNOWN;
      return call(t.v, args);
    }
    return this.reference(t.v);
  }

  private reference(ref: string): Value {
    const m = /^(var|local)\.([A-Za-z_][A-Za-z0-9_-]*)((?:\.[A-Za-z_][A-Za-z0-9_-]*)*)$/.exec(ref);
    if (!m?.[2]) return UNKNOWN;
    const table = m[1] === 'var' ? this.scope.vars : this.scope.locals;
    let v: Value = Object.hasOwn(table, m[2]) ? (table[m[2]] ?? null) : UNKNOWN;
    for (const key of (m[3] ?? '').split('.').filter(Boolean)) {
      if (v === null || isUnknown(v) || typeof v !== 'object' || Array.isArray(v)) return UNKNOWN;
      v = Object.hasOwn(v, key) ? (v[key] ?? null) : UNKNOWN;
    }
    return v;
  }
}

function call(name: string, args: Value[]): Value {
  const [a] = args;
  if (a === undefined || isUnknown(a)) return UNKNOWN;
  switch (name) {
    case 'length':
      if (Array.isArray(a)) return a.length;
      if (typeof a === 'string') return a.length;
      if (a !== null && typeof a === 'object') return Object.keys(a).length;
      return UNKNOWN;
    case 'toset':
    case 'tolist':
    case 'tomap':
    case 'tobool':
    case 'tonumber':
      return a;
    default:
      return UNKNOWN;
  }
}

/** The value of an hcl2json attribute value in a scope: literals as they are, one `${…}` evaluated, else unknown. */
export function evaluate(raw: unknown, scope: Scope): Value {
  if (raw === null || typeof raw === 'boolean' || typeof raw === 'number') return raw;
  if (typeof raw === 'string') {
    const m = /^\$\{([\s\S]*)\}$/.exec(raw.trim());
    if (m?.[1] !== undefined && !m[1].includes('${')) {
      const toks = tokenize(m[1]);
      return toks ? new Parser(toks, scope).parse() : UNKNOWN;
    }
    return raw.includes('${') || raw.includes('%{') ? UNKNOWN : raw;
  }
  if (Array.isArray(raw)) {
    const items = raw.map((x) => evaluate(x, scope));
    return items.some(isUnknown) ? UNKNOWN : items;
  }
  if (typeof raw === 'object') {
    const out: Record<string, Value> = {};
    for (const [k, v] of Object.entries(raw)) {
      const x = evaluate(v, scope);
      if (isUnknown(x)) return UNKNOWN;
      out[k] = x;
    }
    return out;
  }
  return UNKNOWN;
}

// ---- existence of resources and module calls -----------------------------------------------------------------------

function shown(raw: unknown): string {
  const s = typeof raw === 'string' ? raw.replace(/^\$\{([\s\S]*)\}$/, '$1') : JSON.stringify(raw);
  return s.length > 120 ? `${s.slice(0, 117)}…` : s;
}

/** Existence of one block from its `count` / `for_each` meta-arguments. */
export function blockExistence(body: Record<string, unknown>, scope: Scope): Existence {
  if ('count' in body) {
    const v = num(evaluate(body['count'], scope));
    const why = `count = ${shown(body['count'])}`;
    if (v === UNKNOWN) return { status: 'maybe', why: `${why} cannot be resolved without a plan` };
    return v > 0 ? { status: 'yes' } : { status: 'no', why: `${why} is 0 with the default values` };
  }
  if ('for_each' in body) {
    const v = evaluate(body['for_each'], scope);
    const why = `for_each = ${shown(body['for_each'])}`;
    if (isUnknown(v)) return { status: 'maybe', why: `${why} cannot be resolved without a plan` };
    const size = Array.isArray(v) ? v.length : v !== null && typeof v === 'object' ? Object.keys(v).length : -1;
    if (size < 0) return { status: 'maybe', why: `${why} is not a map or set` };
    return size > 0 ? { status: 'yes' } : { status: 'no', why: `${why} is empty with the default values` };
  }
  return { status: 'yes' };
}

function combine(outer: Existence, inner: Existence): Existence {
  if (outer.status === 'no') return outer;
  if (inner.status === 'no') return inner;
  if (outer.status === 'maybe') return outer;
  return inner;
}

function scopeOf(mod: TreeModule, given: Record<string, Value>): Scope {
  const vars: Record<string, Value> = {};
  for (const file of mod.files)
    for (const [name, bodies] of labelled(file.parsed.body, 'variable')) {
      const body = bodies[0] ?? {};
      vars[name] = 'default' in body ? evaluate(body['default'], { vars: {}, locals: {} }) : UNKNOWN;
    }
  Object.assign(vars, given);
  const scope: Scope = { vars, locals: {} };
  const raw: Record<string, unknown> = {};
  for (const file of mod.files) {
    const locals = file.parsed.body['locals'];
    for (const block of Array.isArray(locals) ? locals : locals ? [locals] : [])
      if (block && typeof block === 'object') Object.assign(raw, block);
  }
  // Locals may refer to each other: a few passes settle the chains that matter.
  for (let pass = 0; pass < 3; pass++) for (const [k, v] of Object.entries(raw)) scope.locals[k] = evaluate(v, scope);
  return scope;
}

/** *.tfvars values of a root module: terraform.tfvars, terraform.tfvars.json, then *.auto.tfvars(.json) by name. */
export async function readTfvars(dir: string): Promise<Record<string, unknown>> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return {};
  }
  const auto = names.filter((n) => /\.auto\.tfvars(\.json)?$/.test(n)).sort();
  const ordered = [...['terraform.tfvars', 'terraform.tfvars.json'].filter((n) => names.includes(n)), ...auto];
  const out: Record<string, unknown> = {};
  for (const name of ordered) {
    try {
      const text = await readFile(join(dir, name), 'utf8');
      const body = name.endsWith('.json') ? (JSON.parse(text) as unknown) : (await parseHclFile(name, text)).body;
      if (body && typeof body === 'object' && !Array.isArray(body)) Object.assign(out, body);
    } catch {
      // An unreadable tfvars file leaves the defaults; terraform itself will report it at plan time.
    }
  }
  return out;
}

/**
 * Existence of every resource, data source and module call of the tree, by address without instance keys
 * ("module.eks.aws_iam_policy.this").
 */
export function resolveExistence(tree: ModuleTree, tfvars: Record<string, unknown> = {}): Map<string, Existence> {
  const out = new Map<string, Existence>();
  const byDir = new Map(tree.modules.map((m) => [m.abs, m]));
  const rootGiven: Record<string, Value> = {};
  for (const [k, v] of Object.entries(tfvars)) rootGiven[k] = evaluate(v, { vars: {}, locals: {} });
  let visits = 0;
  // Depth first from the root; a module dir called twice (module.a and module.b on ./modules/x) is resolved once per
  // call, each with its own arguments.
  const visit = (mod: TreeModule, prefix: string, given: Record<string, Value>, base: Existence, depth: number) => {
    if (++visits > 500 || depth > 20) return;
    const scope = scopeOf(mod, given);
    for (const file of mod.files) {
      for (const mode of ['resource', 'data'] as const)
        for (const [type, name, bodies] of doublyLabelled(file.parsed.body, mode)) {
          const address = `${prefix}${mode === 'data' ? 'data.' : ''}${type}.${name}`;
          out.set(address, combine(base, blockExistence(bodies[0] ?? {}, scope)));
        }
      for (const [name, bodies] of labelled(file.parsed.body, 'module')) {
        const body = bodies[0] ?? {};
        const address = `${prefix}module.${name}`;
        const e = combine(base, blockExistence(body, scope));
        out.set(address, e);
        const source = body['source'];
        if (typeof source !== 'string' || !isLocalSource(source)) continue;
        let dir: string;
        try {
          dir = realpathSync(resolve(mod.abs, source));
        } catch {
          continue;
        }
        const child = byDir.get(dir);
        if (!child) continue;
        const args: Record<string, Value> = {};
        for (const [k, v] of Object.entries(body))
          if (!['source', 'version', 'count', 'for_each', 'providers', 'depends_on'].includes(k))
            args[k] = evaluate(v, scope);
        visit(child, `${address}.`, args, e.status === 'yes' ? e : { ...e, why: `${e.why} (${address})` }, depth + 1);
      }
    }
  };
  const root = tree.modules.find((m) => m.prefix === '');
  if (root) visit(root, '', rootGiven, { status: 'yes' }, 0);
  return out;
}

/** The existence of the resource a finding names (instance keys ignored), when the tree declares it. */
export function existenceOf(map: Map<string, Existence>, address: string | undefined): Existence | undefined {
  if (!address) return undefined;
  const base = address.replace(/\[[^\]]*\]/g, '');
  const direct = map.get(base);
  if (direct) return direct;
  // A finding on a module call's child ("module.a.aws_x.y.attr" already normalised) or a module itself.
  const m = /^((?:module\.[^.]+\.)+)/.exec(base);
  return m?.[1] ? map.get(m[1].slice(0, -1)) : undefined;
}

// A plan-shaped document built from HCL alone, so the same Rego rules run when there is no plan (the providers
// cannot be installed, or `check` was given only a dir). Literals become known `after` values and `constant_value`
// expressions; anything with an interpolation is unknown (`after_unknown`) and a reference, so a rule that needs it
// reports "not verified" instead of passing.
import { type Existence, resolveExistence } from './existence.js';
import { doublyLabelled, labelled, type ModuleTree, type TreeModule } from './module-tree.js';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type Obj = Record<string, unknown>;

const META = new Set([
  'provisioner',
  'lifecycle',
  'connection',
  'dynamic',
  'depends_on',
  'count',
  'for_each',
  'provider',
]);
const REFERENCE =
  /\b((?:var|local|module|data)\.[A-Za-z0-9_.-]+|[a-z][a-z0-9]*_[a-z0-9_]+\.[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)?)/g;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function interpolated(v: unknown): boolean {
  if (typeof v === 'string') return v.includes('${') || v.includes('%{');
  if (Array.isArray(v)) return v.some(interpolated);
  if (isObj(v)) return Object.values(v).some(interpolated);
  return false;
}

function references(v: unknown): string[] {
  const out = new Set<string>();
  const visit = (x: unknown) => {
    if (typeof x === 'string') {
      for (const m of x.matchAll(REFERENCE)) if (m[1]) out.add(m[1]);
    } else if (Array.isArray(x)) x.forEach(visit);
    else if (isObj(x)) Object.values(x).forEach(visit);
  };
  visit(v);
  return [...out];
}

/** hcl2json represents nested blocks as arrays of objects. */
function isBlockList(v: unknown): v is Obj[] {
  return Array.isArray(v) && v.length > 0 && v.every(isObj);
}

/** Known values and the unknown mask of one block body. */
function literalize(body: Obj): { after: Obj; unknown: Obj } {
  const after: Obj = {};
  const unknown: Obj = {};
  for (const [k, v] of Object.entries(body)) {
    if (META.has(k)) continue;
    if (isBlockList(v)) {
      const parts = v.map(literalize);
      after[k] = parts.map((p) => p.after);
      unknown[k] = parts.map((p) => p.unknown);
    } else if (interpolated(v)) unknown[k] = true;
    else after[k] = v;
  }
  // `dynamic "x"` blocks produce x at apply time.
  const dyn = body['dynamic'];
  for (const d of Array.isArray(dyn) ? dyn : isObj(dyn) ? [dyn] : [])
    if (isObj(d)) for (const name of Object.keys(d)) unknown[name] = true;
  return { after, unknown };
}

function expressions(body: Obj): Obj {
  const out: Obj = {};
  for (const [k, v] of Object.entries(body)) {
    if (META.has(k)) continue;
    if (isBlockList(v)) out[k] = v.map(expressions);
    else if (interpolated(v)) out[k] = { references: references(v) };
    else out[k] = { constant_value: v };
  }
  return out;
}

function provisioners(body: Obj): { type: string }[] {
  const p = body['provisioner'];
  const groups = Array.isArray(p) ? p : isObj(p) ? [p] : [];
  return groups.flatMap((g) => (isObj(g) ? Object.keys(g).map((type) => ({ type })) : []));
}

interface Built {
  changes: Obj[];
  module: Obj;
  providers: Obj;
  variables: Obj;
}

function defaultTags(mod: TreeModule): Obj {
  const tags: Obj = {};
  for (const file of mod.files)
    for (const [, bodies] of labelled(file.parsed.body, 'provider'))
      for (const pb of bodies)
        for (const dt of Array.isArray(pb['default_tags']) ? pb['default_tags'] : [])
          if (isObj(dt) && isObj(dt['tags']) && !interpolated(dt['tags'])) Object.assign(tags, dt['tags']);
  return tags;
}

function buildModule(tree: ModuleTree, mod: TreeModule, key: string, existence: Map<string, Existence>): Built {
  const changes: Obj[] = [];
  const resources: Obj[] = [];
  const moduleCalls: Obj = {};
  const providers: Obj = {};
  const variables: Obj = {};
  const varDecl: Obj = {};
  const tagsDefault = defaultTags(tree.modules[0] ?? mod);
  for (const file of mod.files) {
    const body = file.parsed.body;
    for (const mode of ['resource', 'data'] as const) {
      for (const [type, name, bodies] of doublyLabelled(body, mode)) {
        const res = bodies[0] ?? {};
        const local = mode === 'data' ? `data.${type}.${name}` : `${type}.${name}`;
        // What the default values do not create is not judged (count = 0, an empty for_each, a false flag).
        if (existence.get(`${mod.prefix}${local}`)?.status === 'no') continue;
        const { after, unknown } = literalize(res);
        if (mode === 'resource' && 'tags' in res) {
          if (interpolated(res['tags'])) unknown['tags_all'] = true;
          else after['tags_all'] = { ...tagsDefault, ...(isObj(res['tags']) ? res['tags'] : {}) };
        }
        changes.push({
          address: `${mod.prefix}${local}`,
          mode: mode === 'data' ? 'data' : 'managed',
          type,
          name,
          change: { actions: [mode === 'data' ? 'read' : 'create'], before: null, after, after_unknown: unknown },
        });
        resources.push({
          address: local,
          mode: mode === 'data' ? 'data' : 'managed',
          type,
          name,
          expressions: expressions(res),
          ...(provisioners(res).length > 0 ? { provisioners: provisioners(res) } : {}),
        });
      }
    }
    for (const [name, bodies] of labelled(body, 'module')) {
      const mb = bodies[0] ?? {};
      moduleCalls[name] = {
        source: typeof mb['source'] === 'string' ? mb['source'] : '',
        ...(typeof mb['version'] === 'string' ? { version_constraint: mb['version'] } : {}),
        expressions: expressions(mb),
      };
    }
    for (const [name, bodies] of labelled(body, 'variable')) {
      const vb = bodies[0] ?? {};
      varDecl[name] = 'default' in vb ? { default: vb['default'] } : {};
      if ('default' in vb && !interpolated(vb['default'])) variables[name] = { value: vb['default'] };
    }
    for (const [name, bodies] of labelled(body, 'provider')) {
      for (const pb of bodies) {
        const alias = typeof pb['alias'] === 'string' ? pb['alias'] : undefined;
        const k = `${key ? `${key}:` : ''}${name}${alias ? `.${alias}` : ''}`;
        providers[k] = { name, expressions: expressions(pb) };
      }
    }
  }
  return { changes, module: { resources, module_calls: moduleCalls, variables: varDecl }, providers, variables };
}

/**
 * A `terraform show -json`-shaped document for the module tree (root first). Resources that the variable defaults
 * and `tfvars` (root values, by name) do not create are left out.
 */
export function planFromHcl(tree: ModuleTree, opts: { tfvars?: Record<string, unknown> } = {}): Json {
  const existence = resolveExistence(tree, opts.tfvars ?? {});
  const built = new Map<string, Built>();
  for (const mod of tree.modules)
    built.set(mod.prefix, buildModule(tree, mod, mod.prefix.replace(/\.$/, ''), existence));
  // Nest child modules under their callers' module_calls.
  for (const mod of [...tree.modules].reverse()) {
    if (!mod.prefix) continue;
    const parentPrefix = mod.prefix.replace(/module\.[^.]+\.$/, '');
    const name = /module\.([^.]+)\.$/.exec(mod.prefix)?.[1];
    const parent = built.get(parentPrefix);
    const child = built.get(mod.prefix);
    const calls = parent?.module['module_calls'];
    if (name && child && isObj(calls) && isObj(calls[name])) (calls[name] as Obj)['module'] = child.module;
  }
  const all = [...built.values()];
  const root = built.get('');
  const doc = {
    format_version: '1.2',
    infra_agent_source: 'hcl',
    variables: root?.variables ?? {},
    resource_changes: all.flatMap((b) => b.changes),
    configuration: {
      provider_config: Object.assign({}, ...all.map((b) => b.providers)),
      root_module: root?.module ?? {},
    },
  };
  return JSON.parse(JSON.stringify(doc)) as Json;
}

// GitHub's REST API description (@octokit/openapi) as the stand-in's referee: it finds the operation a request is
// for, validates the request's path, query and JSON body against it, validates our own responses, and fills the
// long tail of fields GitHub's schemas mark required, so that what the App receives has GitHub's shape. The 13 MB
// description is loaded once, lazily, and schemas are compiled per operation on first use.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormatsImport from 'ajv-formats';
import { z } from 'zod';
import { isJsonObject, type Json, type JsonObject } from '../json.js';

// ajv-formats is CommonJS with a default export; under NodeNext the callable sits on `.default` at type level.
const addFormats = addFormatsImport as unknown as (ajv: Ajv) => Ajv;

const SPEC_ID = 'https://stand-in.invalid/api.github.com.json';
const PLACEHOLDER_URL = 'https://stand-in.invalid/unset';
const PLACEHOLDER_TIME = '2020-01-01T00:00:00Z';

export interface Operation {
  method: string;
  /** The path template as the description spells it, e.g. `/repos/{owner}/{repo}/pulls/{pull_number}`. */
  template: string;
  operationId: string;
}

export interface RouteMatch {
  operation: Operation;
  /** Decoded path parameters. */
  params: Record<string, string>;
}

interface Route {
  template: string;
  segments: string[];
  methods: Map<string, Operation>;
}

interface LoadedSpec {
  raw: JsonObject;
  routes: Route[];
  ajv: Ajv;
  coercing: Ajv;
  compiled: Map<string, ValidateFunction>;
}

let loaded: LoadedSpec | undefined;

const isObject = isJsonObject;

/**
 * The parsed description as typed JSON, with OpenAPI 3.0 `nullable` turned into JSON Schema (`type: [t, 'null']`,
 * or `anyOf […, null]` where there is no `type`) so ajv reads each schema the way GitHub means it.
 */
function normalize(node: unknown): Json {
  if (node === null || typeof node === 'boolean' || typeof node === 'number' || typeof node === 'string') return node;
  if (Array.isArray(node)) return node.map(normalize);
  if (typeof node !== 'object') return null;
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(node)) out[k] = normalize(v);
  readAlternativesAsAnyOf(out);
  if (out['nullable'] !== true) return out;
  delete out['nullable'];
  const type = out['type'];
  if (typeof type === 'string') {
    out['type'] = [type, 'null'];
    const en = out['enum'];
    if (Array.isArray(en) && !en.includes(null)) out['enum'] = [...en, null];
    return out;
  }
  return { anyOf: [out, { type: 'null' }] };
}

/**
 * An erratum of the published description: the inlined response of `GET /app/installations` types `account` as
 * `allOf: [Simple User, Enterprise]`, while the `installation` component (the same object, from
 * `GET /app/installations/{id}`) says `anyOf`. No account is both (an enterprise has `slug` and `name`, a user has
 * `login`), and GitHub answers with a plain user there; read it as the component does.
 */
function readAlternativesAsAnyOf(out: JsonObject): void {
  const all = out['allOf'];
  if (!Array.isArray(all) || all.length !== 2) return;
  const titles = all.map((s) => (isObject(s) ? s['title'] : undefined)).sort();
  if (titles[0] !== 'Enterprise' || titles[1] !== 'Simple User') return;
  out['anyOf'] = all;
  delete out['allOf'];
}

function specPath(): string {
  const require = createRequire(import.meta.url);
  return require.resolve('@octokit/openapi/generated/api.github.com.json');
}

const OperationShape = z.object({ operationId: z.string() });

function load(): LoadedSpec {
  if (loaded) return loaded;
  const parsed: unknown = JSON.parse(readFileSync(specPath(), 'utf8'));
  const shape = z
    .object({
      paths: z.record(z.string(), z.record(z.string(), z.unknown())),
      components: z.record(z.string(), z.unknown()),
    })
    .parse(parsed);
  // Only paths and components are schemas; the webhooks section is large and unused here.
  const raw = normalize({ paths: shape.paths, components: shape.components });
  if (!isObject(raw)) throw new Error('the GitHub OpenAPI description did not load as an object');
  const routes: Route[] = [];
  for (const [template, item] of Object.entries(shape.paths)) {
    const methods = new Map<string, Operation>();
    for (const [method, op] of Object.entries(item)) {
      const ok = OperationShape.safeParse(op);
      if (ok.success)
        methods.set(method.toUpperCase(), { method: method.toUpperCase(), template, operationId: ok.data.operationId });
    }
    routes.push({ template, segments: template.split('/').slice(1), methods });
  }
  const ajv = new Ajv({ strict: false, allErrors: true, validateSchema: false, logger: false });
  addFormats(ajv);
  ajv.addSchema({ ...raw, $id: SPEC_ID }, undefined, undefined, false);
  const coercing = new Ajv({ strict: false, coerceTypes: true, logger: false });
  addFormats(coercing);
  loaded = { raw, routes, ajv, coercing, compiled: new Map() };
  return loaded;
}

/** Load the description now (it otherwise loads on the first request), e.g. in a test's beforeAll. */
export function preloadSpec(): void {
  load();
}

const isParam = (segment: string) => segment.startsWith('{') && segment.endsWith('}');

/**
 * The operation for a method and path (without the `/api/v3` prefix or query). A path may match several
 * templates (`/issues/comments/{id}` vs `/issues/{n}/comments`): the one with more literal segments wins. A final
 * parameter may span slashes (`contents/{path}`, `git/ref/{ref}`), as GitHub allows.
 */
export function matchRoute(
  method: string,
  path: string,
): RouteMatch | { error: 'no-route' } | { error: 'method'; template: string } {
  const spec = load();
  const parts = path.split('/').slice(1);
  let best: { route: Route; params: Record<string, string>; score: number } | undefined;
  for (const route of spec.routes) {
    const params = matchSegments(route.segments, parts);
    if (!params) continue;
    const literal = route.segments.filter((s) => !isParam(s)).length;
    const exact = route.segments.length === parts.length ? 1000 : 0;
    const score = exact + literal;
    if (!best || score > best.score) best = { route, params, score };
  }
  if (!best) return { error: 'no-route' };
  const operation = best.route.methods.get(method.toUpperCase());
  if (!operation) return { error: 'method', template: best.route.template };
  return { operation, params: best.params };
}

function matchSegments(template: string[], parts: string[]): Record<string, string> | undefined {
  if (parts.length < template.length) return undefined;
  if (parts.length > template.length) {
    const last = template[template.length - 1];
    if (last === undefined || !isParam(last)) return undefined;
  }
  const params: Record<string, string> = {};
  for (let i = 0; i < template.length; i++) {
    const t = template[i] ?? '';
    const isLast = i === template.length - 1;
    const raw = isLast ? parts.slice(i).join('/') : (parts[i] ?? '');
    if (isParam(t)) {
      if (raw === '') return undefined;
      let value: string;
      try {
        value = decodeURIComponent(raw);
      } catch {
        return undefined;
      }
      params[t.slice(1, -1)] = value;
    } else if (t !== raw) {
      return undefined;
    }
  }
  return params;
}

const pointerEscape = (s: string) => s.replace(/~/g, '~0').replace(/\//g, '~1');

function get(node: Json | undefined, ...keys: string[]): Json | undefined {
  let cur = node;
  for (const k of keys) {
    if (!isObject(cur)) return undefined;
    cur = cur[k];
  }
  return cur;
}

/** Follow a local `$ref` (`#/components/...`) in the description. */
function deref(node: Json | undefined): Json | undefined {
  let cur = node;
  for (let i = 0; i < 10 && isObject(cur) && typeof cur['$ref'] === 'string'; i++) {
    const ref = cur['$ref'];
    if (!ref.startsWith('#/')) return undefined;
    cur = get(
      load().raw,
      ...ref
        .slice(2)
        .split('/')
        .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~')),
    );
  }
  return cur;
}

function compile(key: string, schema: () => object): ValidateFunction {
  const spec = load();
  let fn = spec.compiled.get(key);
  if (!fn) {
    fn = spec.ajv.compile(schema());
    spec.compiled.set(key, fn);
  }
  return fn;
}

function describeErrors(errors: ErrorObject[] | null | undefined, where: string): string[] {
  return (errors ?? []).slice(0, 10).map((e) => {
    const at = `${where}${e.instancePath}`;
    const extra = e.keyword === 'additionalProperties' ? ` (${String(e.params['additionalProperty'])})` : '';
    const allowed = e.keyword === 'enum' ? ` (one of ${JSON.stringify(e.params['allowedValues'])})` : '';
    return `${at} ${e.message ?? e.keyword}${extra}${allowed}`;
  });
}

function operationNode(op: Operation): Json | undefined {
  return get(load().raw, 'paths', op.template, op.method.toLowerCase());
}

/**
 * Problems with a request, as GitHub's description sees them: missing or ill-typed path and query parameters, a
 * missing required body, a JSON body that does not match the operation's schema. Empty when the request is valid.
 */
export function validateRequest(
  match: RouteMatch,
  query: URLSearchParams,
  body: { present: boolean; value: unknown },
): string[] {
  const problems: string[] = [];
  const node = operationNode(match.operation);
  const paramsNode = get(node, 'parameters');
  const params = Array.isArray(paramsNode) ? paramsNode.map(deref) : [];
  for (const p of params) {
    if (!isObject(p)) continue;
    const name = p['name'];
    const where = p['in'];
    if (typeof name !== 'string' || (where !== 'path' && where !== 'query')) continue;
    const value = where === 'path' ? match.params[name] : (query.get(name) ?? undefined);
    if (value === undefined) {
      if (p['required'] === true) problems.push(`${where} parameter "${name}" is required`);
      continue;
    }
    const schema = p['schema'];
    if (!isObject(schema) || '$ref' in schema) continue;
    const key = `param:${match.operation.operationId}:${name}`;
    const spec = load();
    let fn = spec.compiled.get(key);
    if (!fn) {
      fn = spec.coercing.compile({ type: 'object', properties: { v: schema } });
      spec.compiled.set(key, fn);
    }
    if (!fn({ v: value })) problems.push(...describeErrors(fn.errors, `${where} parameter "${name}"`));
  }
  const requestBody = deref(get(node, 'requestBody'));
  const schema = get(requestBody, 'content', 'application/json', 'schema');
  if (schema !== undefined) {
    if (!body.present) {
      if (get(requestBody, 'required') === true) problems.push('a JSON request body is required');
    } else {
      const pointer = `${SPEC_ID}#/paths/${pointerEscape(match.operation.template)}/${match.operation.method.toLowerCase()}/requestBody/content/application~1json/schema`;
      const fn = compile(`body:${match.operation.operationId}`, () => ({ $ref: pointer }));
      if (!fn(body.value)) problems.push(...describeErrors(fn.errors, 'body'));
    }
  }
  return problems;
}

/** The JSON schema location of an operation's response for a status, or undefined when it has no JSON body. */
function responsePointer(op: Operation, status: number): string | undefined {
  const node = operationNode(op);
  const entry = get(node, 'responses', String(status));
  let base = `${SPEC_ID}#/paths/${pointerEscape(op.template)}/${op.method.toLowerCase()}/responses/${status}`;
  let target = entry;
  if (isObject(entry) && typeof entry['$ref'] === 'string') {
    base = `${SPEC_ID}#${entry['$ref'].slice(1)}`;
    target = deref(entry);
  }
  if (get(target, 'content', 'application/json', 'schema') === undefined) return undefined;
  return `${base}/content/application~1json/schema`;
}

/**
 * Problems with a response we are about to send, against the operation's documented response schema. A status the
 * operation does not document is itself a problem (error statuses with GitHub's generic bodies are not checked).
 */
export function validateResponse(op: Operation, status: number, body: unknown): string[] {
  const responses = get(operationNode(op), 'responses');
  if (!isObject(responses) || !(String(status) in responses))
    return status >= 400 ? [] : [`status ${status} is not documented for ${op.operationId}`];
  if (status >= 400) return [];
  const pointer = responsePointer(op, status);
  if (!pointer) return [];
  const fn = compile(`response:${op.operationId}:${status}`, () => ({ $ref: pointer }));
  return fn(body) ? [] : describeErrors(fn.errors, `response ${status}`);
}

/** Problems with a value against a named component schema, e.g. `pull-request`. */
export function validateComponent(name: string, value: unknown): string[] {
  const fn = compile(`component:${name}`, () => ({ $ref: `${SPEC_ID}#/components/schemas/${pointerEscape(name)}` }));
  return fn(value) ? [] : describeErrors(fn.errors, name);
}

/** A type-valid stand-in for a value GitHub requires but the stand-in has nothing meaningful for. */
function placeholderFor(schemaNode: Json | undefined, depth: number): Json {
  const schema = deref(schemaNode);
  if (!isObject(schema) || depth > 8) return null;
  for (const key of ['anyOf', 'oneOf'] as const) {
    const alts = schema[key];
    if (Array.isArray(alts)) {
      const resolved = alts.map(deref);
      if (resolved.some((a) => isObject(a) && a['type'] === 'null')) return null;
      return placeholderFor(resolved[0], depth + 1);
    }
  }
  const allOf = schema['allOf'];
  if (Array.isArray(allOf)) {
    const merged: JsonObject = {};
    for (const part of allOf) {
      const v = placeholderFor(part, depth + 1);
      if (isObject(v)) Object.assign(merged, v);
    }
    return merged;
  }
  const type = schema['type'];
  if (Array.isArray(type) && type.includes('null')) return null;
  const en = schema['enum'];
  if (Array.isArray(en) && en.length > 0) return en[0] ?? null;
  const t = Array.isArray(type) ? type[0] : type;
  switch (t) {
    case 'string': {
      const format = schema['format'];
      if (format === 'date-time') return PLACEHOLDER_TIME;
      if (format === 'uri' || format === 'url') return PLACEHOLDER_URL;
      if (format === 'email') return 'placeholder@stand-in.invalid';
      return '';
    }
    case 'integer':
    case 'number':
      return 0;
    case 'boolean':
      return false;
    case 'array':
      return [];
    default:
      return completeObject(schema, {}, depth + 1);
  }
}

function completeObject(schema: JsonObject, value: JsonObject, depth: number): JsonObject {
  const allOf = schema['allOf'];
  if (Array.isArray(allOf)) {
    let out = value;
    for (const part of allOf) {
      const p = deref(part);
      if (isObject(p)) out = completeObject(p, out, depth + 1);
    }
    return out;
  }
  for (const key of ['anyOf', 'oneOf'] as const) {
    const alts = schema[key];
    if (Array.isArray(alts)) {
      const first = alts.map(deref).find((a) => isObject(a) && a['type'] !== 'null');
      return isObject(first) ? completeObject(first, value, depth + 1) : value;
    }
  }
  const props = isObject(schema['properties']) ? schema['properties'] : {};
  const required = Array.isArray(schema['required']) ? schema['required'] : [];
  const out: JsonObject = { ...value };
  for (const name of required) {
    if (typeof name === 'string' && !(name in out)) out[name] = placeholderFor(props[name], depth);
  }
  if (depth > 8) return out;
  for (const [name, v] of Object.entries(out)) {
    const sub = deref(props[name]);
    if (!isObject(sub)) continue;
    if (isObject(v)) out[name] = completeObject(sub, v, depth + 1);
    else if (Array.isArray(v)) {
      const items = deref(get(sub, 'items')) ?? deref(get(deref(get(sub, 'anyOf', '0')), 'items'));
      if (isObject(items))
        out[name] = v.map((item) => (isObject(item) ? completeObject(items, item, depth + 1) : item));
    }
  }
  return out;
}

/**
 * `value` with every field the named component schema requires and `value` lacks filled with a type-valid
 * placeholder (null where nullable). The stand-in's builders set every field the App can meaningfully read; this
 * only keeps the long tail (`gists_url`, `stargazers_count`, …) from making responses invalid.
 */
export function completeComponent(name: string, value: JsonObject): JsonObject {
  const schema = deref(get(load().raw, 'components', 'schemas', name));
  if (!isObject(schema)) throw new Error(`no component schema named ${name} in GitHub's description`);
  return completeObject(schema, value, 0);
}

export type { Json, JsonObject } from '../json.js';

/**
 * Problems with a webhook payload against GitHub's documented schema for that event and action
 * (`components/schemas/webhook-<event>-<action>`), e.g. ('issues', 'labeled').
 */
export function validateWebhookPayload(event: string, action: string, payload: unknown): string[] {
  const name = `webhook-${event.replace(/_/g, '-')}-${action.replace(/_/g, '-')}`;
  return validateComponent(name, payload);
}

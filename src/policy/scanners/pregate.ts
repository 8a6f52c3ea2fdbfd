// The pre-plan guard. Runs on the HCL only, before `terraform init`/`plan`, because those already execute code
// from the repo (external data sources, provisioners on apply, module and provider downloads): PRE-EXEC-001,
// PRE-SUPPRESS-001 and the literal half of SEC-SECRET-001. No external tool; it cannot be "not installed".
import type { PolicyConfig } from '../../config/schema.js';
import type { Finding, ScannerRun } from '../../core/types.js';
import { findLine, findNestedLine, type HclBlockNode } from '../../repo/hcl.js';
import { makeFinding } from '../findings.js';
import {
  doublyLabelled,
  findTopBlock,
  isLocalSource,
  labelled,
  loadModuleTree,
  type ModuleTree,
  type TreeFile,
  type TreeModule,
} from '../module-tree.js';
import type { ScanInput, Scanner } from './types.js';

const PASSWORD_ATTRIBUTES = ['password', 'master_password', 'admin_password'];
const SECRET_VARIABLE = /password|secret|token/i;
const SECRET_ENV_NAME = /password|passwd|secret|token|private_key|api_key|access_key/i;
const AWS_KEY_ID = /\b(?:AKIA|ASIA)[A-Z0-9]{16}\b/;
const AWS_SECRET = /(?:aws_secret_access_key|secret_access_key|secretaccesskey)["']?\s*[:=]\s*["']?[A-Za-z0-9/+=]{40}/i;
const SUPPRESSION = /\b(checkov:skip|tfsec:ignore|trivy:ignore)\b/i;
const USER_DATA_TYPES = new Set([
  'aws_instance',
  'aws_launch_template',
  'aws_launch_configuration',
  'aws_spot_instance_request',
]);
const REGISTRY_SOURCE = /^(?:[a-z0-9.-]+\.[a-z]{2,}\/)?[A-Za-z0-9_-]+\/[A-Za-z0-9_-]+\/[A-Za-z0-9_-]+$/;
const EXACT_VERSION = /^\s*=?\s*v?\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?\s*$/;

function isLiteral(value: unknown): value is string {
  return typeof value === 'string' && value !== '' && !value.includes('${') && !value.includes('%{');
}

function hasCloudKey(text: string): boolean {
  return AWS_KEY_ID.test(text) || AWS_SECRET.test(text);
}

/** Why a module source is not acceptable, or undefined when it is. */
export function checkModuleSource(source: string, version: unknown, config: PolicyConfig): string | undefined {
  if (isLocalSource(source)) return undefined;
  const allowed = config.allowed_module_sources.some((p) => source.startsWith(p));
  if (!allowed) {
    if (/^(git::|git@|hg::|s3::|gcs::|https?:\/\/|github\.com\/|bitbucket\.org\/)/.test(source))
      return `module source "${source}" downloads code from outside the allow-list`;
    return `module source "${source}" is not in allowed_module_sources`;
  }
  const registry = REGISTRY_SOURCE.test(source.replace(/^registry\.terraform\.io\//, ''));
  if (registry && !(typeof version === 'string' && EXACT_VERSION.test(version)))
    return `registry module "${source}" is not pinned to an exact version (version = ${typeof version === 'string' ? `"${version}"` : 'unset'})`;
  return undefined;
}

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

/** The line of a literal value inside a block, by searching its text (after `attr`, if known). */
function lineOf(file: TreeFile, block: HclBlockNode | undefined, needle: string): number | undefined {
  if (!block) return undefined;
  return findLine(file.parsed.source, (t) => t.includes(needle), { from: block.line, to: block.endLine });
}

/** Strings nested anywhere in a value, with the attribute name that holds them. */
function* strings(value: unknown, name = ''): Generator<[string, string]> {
  if (typeof value === 'string') yield [name, value];
  else if (Array.isArray(value)) for (const v of value) yield* strings(v, name);
  else if (typeof value === 'object' && value !== null)
    for (const [k, v] of Object.entries(value)) yield* strings(v, k);
}

function checkFile(mod: TreeModule, file: TreeFile, config: PolicyConfig): Finding[] {
  const out: Finding[] = [];
  const { body } = file.parsed;
  const p = mod.prefix;
  const add = (ruleId: string, address: string | undefined, line: number | undefined, message: string) =>
    out.push(makeFinding({ ruleId, source: 'pregate', address, file: file.rel, line, message }));

  // PRE-EXEC-001: external data sources.
  for (const [type, name] of doublyLabelled(body, 'data')) {
    if (type !== 'external') continue;
    const b = findTopBlock(file.nodes, 'data', [type, name]);
    add(
      'PRE-EXEC-001',
      `${p}data.external.${name}`,
      b?.line,
      'data "external" runs a program on the plan host during plan',
    );
  }

  for (const [type, name, bodies] of doublyLabelled(body, 'resource')) {
    const address = `${p}${type}.${name}`;
    const b = findTopBlock(file.nodes, 'resource', [type, name]);
    for (const res of bodies) {
      // PRE-EXEC-001: provisioners (any resource type: null_resource, terraform_data, …).
      for (const [ptype] of labelled(res, 'provisioner')) {
        if (ptype !== 'local-exec' && ptype !== 'remote-exec') continue;
        const node = b?.children.find((c) => c.kind === 'provisioner' && c.labels[0] === ptype);
        add(
          'PRE-EXEC-001',
          address,
          node?.line ?? b?.line,
          `provisioner "${ptype}" runs commands on ${ptype === 'local-exec' ? 'the apply host' : 'a remote host'} during apply`,
        );
      }
      // SEC-SECRET-001: literal passwords.
      for (const attr of PASSWORD_ATTRIBUTES) {
        if (isLiteral(res[attr]))
          add(
            'SEC-SECRET-001',
            address,
            (b && findNestedLine(b, [attr])) ?? b?.line,
            `${attr} is a literal string in the code`,
          );
      }
      // SEC-SECRET-001: cloud keys in user data.
      if (USER_DATA_TYPES.has(type)) {
        const ud = res['user_data'];
        if (typeof ud === 'string' && hasCloudKey(ud))
          add(
            'SEC-SECRET-001',
            address,
            (b && findNestedLine(b, ['user_data'])) ?? b?.line,
            'user_data holds a cloud access key',
          );
        const ud64 = res['user_data_base64'];
        if (isLiteral(ud64) && hasCloudKey(Buffer.from(ud64, 'base64').toString('utf8')))
          add(
            'SEC-SECRET-001',
            address,
            (b && findNestedLine(b, ['user_data_base64'])) ?? b?.line,
            'user_data_base64 holds a cloud access key',
          );
      }
      // SEC-SECRET-001: literal secrets in Lambda environment variables.
      if (type === 'aws_lambda_function') {
        for (const env of Array.isArray(res['environment']) ? res['environment'] : []) {
          const vars =
            typeof env === 'object' && env !== null ? (env as Record<string, unknown>)['variables'] : undefined;
          if (typeof vars !== 'object' || vars === null) continue;
          for (const [k, v] of Object.entries(vars)) {
            if (isLiteral(v) && (hasCloudKey(v) || SECRET_ENV_NAME.test(k)))
              add(
                'SEC-SECRET-001',
                address,
                lineOf(file, b, k) ?? b?.line,
                `Lambda environment variable ${k} holds a literal secret`,
              );
          }
        }
      }
      // SEC-SECRET-001: an AWS access key anywhere else in the resource.
      for (const [attr, s] of strings(res)) {
        if (attr === 'user_data' || !AWS_KEY_ID.test(s)) continue;
        const key = AWS_KEY_ID.exec(s)?.[0] ?? '';
        add(
          'SEC-SECRET-001',
          address,
          lineOf(file, b, key) ?? b?.line,
          `${attr || 'a value'} holds an AWS access key id`,
        );
      }
    }
  }

  // PRE-EXEC-001: module sources.
  for (const [name, bodies] of labelled(body, 'module')) {
    const mb = bodies[0];
    const source = mb?.['source'];
    if (typeof source !== 'string') continue;
    const why = checkModuleSource(source, mb?.['version'], config);
    const b = findTopBlock(file.nodes, 'module', [name]);
    if (why) add('PRE-EXEC-001', `${p}module.${name}`, (b && findNestedLine(b, ['source'])) ?? b?.line, why);
  }

  // SEC-SECRET-001: literal defaults of secret-looking variables.
  for (const [name, bodies] of labelled(body, 'variable')) {
    if (!SECRET_VARIABLE.test(name)) continue;
    const d = bodies[0]?.['default'];
    if (!isLiteral(d)) continue;
    const b = findTopBlock(file.nodes, 'variable', [name]);
    add(
      'SEC-SECRET-001',
      `${p}var.${name}`,
      (b && findNestedLine(b, ['default'])) ?? b?.line,
      `variable "${name}" has a literal default`,
    );
  }

  // Providers: literal credentials, and the allow-list.
  const allowedProviders = new Set(config.allowed_providers);
  const declared = new Set<string>();
  for (const t of Array.isArray(body['terraform']) ? body['terraform'] : []) {
    const tb = typeof t === 'object' && t !== null ? (t as Record<string, unknown>) : {};
    for (const rp of Array.isArray(tb['required_providers']) ? tb['required_providers'] : []) {
      if (typeof rp !== 'object' || rp === null) continue;
      for (const [local, spec] of Object.entries(rp as Record<string, unknown>)) {
        declared.add(local);
        const src =
          typeof spec === 'object' && spec !== null && typeof (spec as Record<string, unknown>)['source'] === 'string'
            ? String((spec as Record<string, unknown>)['source'])
            : `hashicorp/${local}`;
        const short = src.replace(/^registry\.terraform\.io\//, '');
        if (allowedProviders.size > 0 && !allowedProviders.has(short) && !allowedProviders.has(src)) {
          const line = findLine(file.parsed.source, (text) => new RegExp(`^\\s*${local}\\s*=`).test(text));
          add('PRE-EXEC-001', `${p}provider.${local}`, line, `provider source "${short}" is not in allowed_providers`);
        }
      }
    }
  }
  for (const [name, bodies] of labelled(body, 'provider')) {
    const b = findTopBlock(file.nodes, 'provider', [name]);
    for (const pb of bodies) {
      for (const attr of ['access_key', 'secret_key', 'token']) {
        if (isLiteral(pb[attr]))
          add(
            'SEC-SECRET-001',
            `${p}provider.${name}`,
            (b && findNestedLine(b, [attr])) ?? b?.line,
            `provider "${name}" has a literal ${attr}`,
          );
      }
    }
    if (allowedProviders.size > 0 && !declared.has(name) && !allowedProviders.has(`hashicorp/${name}`))
      add('PRE-EXEC-001', `${p}provider.${name}`, b?.line, `provider "hashicorp/${name}" is not in allowed_providers`);
  }

  // PRE-SUPPRESS-001: scanner-silencing comments.
  for (const c of extractComments(file.parsed.source)) {
    const m = SUPPRESSION.exec(c.text);
    if (!m) continue;
    const around = enclosing(file.nodes, c.line) ?? file.nodes.find((b) => b.line > c.line);
    add(
      'PRE-SUPPRESS-001',
      around ? blockAddress(p, around) : undefined,
      c.line,
      `"${m[1]}" comment silences a scanner`,
    );
  }
  return out;
}

/** Runs the guard on a loaded module tree (shared with the gate so files are parsed once). */
export function checkModuleTree(tree: ModuleTree, config: PolicyConfig): Finding[] {
  const findings: Finding[] = [];
  for (const mod of tree.modules) for (const file of mod.files) findings.push(...checkFile(mod, file, config));
  for (const e of tree.escapes) {
    findings.push(
      makeFinding({
        ruleId: 'PRE-EXEC-001',
        source: 'pregate',
        address: e.address,
        file: e.file,
        line: e.line,
        message: `module source "${e.source}" resolves outside the repository`,
      }),
    );
  }
  return findings;
}

export async function runPregateOn(
  dir: string,
  repoRoot: string,
  config: PolicyConfig,
  tree?: ModuleTree,
): Promise<ScannerRun> {
  const started = Date.now();
  try {
    const t = tree ?? (await loadModuleTree(dir, repoRoot));
    const findings = checkModuleTree(t, config);
    if (t.parseErrors.length > 0) {
      // Code we cannot read is code we cannot vouch for.
      const list = t.parseErrors.map((e) => `${e.file}:${e.line}: ${e.message}`).join('\n');
      return {
        name: 'pregate',
        status: 'failed',
        durationMs: Date.now() - started,
        reason: `invalid HCL:\n${list}`,
        findings,
      };
    }
    return { name: 'pregate', status: 'ok', version: 'built-in', durationMs: Date.now() - started, findings };
  } catch (err) {
    return {
      name: 'pregate',
      status: 'failed',
      durationMs: Date.now() - started,
      reason: err instanceof Error ? err.message : String(err),
      findings: [],
    };
  }
}

export const pregateScanner: Scanner = {
  name: 'pregate',
  run: (input: ScanInput) => runPregateOn(input.dir, input.repoRoot, input.config),
};

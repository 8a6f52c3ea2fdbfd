// OPA with the default policies (policies/, package infra_agent.rules.*) and the repo's own folder
// (`policy.custom_policy_dir`, package infra_agent.custom.*), on the plan JSON, or on a plan-shaped document built
// from the HCL when there is no plan. Parameters reach Rego as data.infra_agent.config. A Rego error is reported with
// the file:line OPA gives, and the scanner fails: a broken policy never passes.
// Policy comes from where config comes from: in the App the repo's folder is read from the DEFAULT branch (the
// checks get it as `customPolicies`), never from the PR under review. OPA evaluates with a capabilities file that
// removes the builtins reaching the network or the environment (`http.send`, `net.lookup_ip_addr`, `opa.runtime`),
// so a policy calling them fails to compile, naming the builtin, instead of making a request.
import { readdir, readFile, realpath } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { z } from 'zod';
import type { PolicyConfig } from '../../config/schema.js';
import type { Finding } from '../../core/types.js';
import { ExecError, run } from '../../sandbox/exec.js';
import { scannerPolicy } from '../../sandbox/policy.js';
import { projectRoot } from '../../toolchain/tools.js';
import { readTfvars } from '../existence.js';
import { makeFinding, parseSeverity } from '../findings.js';
import { planFromHcl } from '../hcl-plan.js';
import { loadModuleTree, toRepoPath } from '../module-tree.js';
import { describeExecError, failed, locateTool, notRun, privateTempDir, probeVersion, writePrivate } from './common.js';
import type { ScanInput, Scanner } from './types.js';

const TIMEOUT_MS = 120_000;
const LEVELS = ['hard', 'soft', 'advisory'] as const;

export function defaultPolicyDir(): string {
  return process.env['INFRA_AGENT_POLICY_DIR'] ?? join(projectRoot(), 'policies');
}

/** `.rego` files under a dir, tests excluded (they are for `opa test`, not for evaluation). */
export async function listRegoFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string) => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else if (e.isFile() && e.name.endsWith('.rego') && !e.name.endsWith('_test.rego')) out.push(p);
    }
  };
  await walk(dir);
  return out.sort();
}

const RegoFinding = z.object({
  rule_id: z.string().min(1).max(100),
  severity: z.string().optional(),
  message: z.string().max(2000),
  address: z.string().max(500).optional(),
  remediation: z.string().max(2000).optional(),
  not_verified: z.boolean().optional(),
  /** Only custom policies may choose their level; the default rules take theirs from rules.ts. */
  level: z.enum(LEVELS).optional(),
});

const OpaResult = z.object({
  result: z
    .array(z.object({ expressions: z.array(z.object({ value: z.unknown() })) }))
    .optional()
    .default([]),
});
const QueryValue = z.object({ rules: z.array(z.unknown()).default([]), custom: z.array(z.unknown()).default([]) });
const OpaErrors = z.object({
  errors: z.array(
    z.object({
      message: z.string(),
      code: z.string().optional(),
      location: z.object({ file: z.string().optional(), row: z.number().optional() }).optional(),
    }),
  ),
});

const QUERY_DEFAULT = '{"rules": [f | some f in data.infra_agent.main.findings], "custom": []}';
const QUERY_CUSTOM =
  '{"rules": [f | some f in data.infra_agent.main.findings], "custom": [f | walk(data.infra_agent.custom, [p, v]); count(p) > 0; p[count(p) - 1] == "deny"; some f in v]}';

/** Builtins a policy may not call: they reach the network or read the environment of the process. */
export const FORBIDDEN_BUILTINS = ['http.send', 'net.lookup_ip_addr', 'opa.runtime', 'providers.aws.sign_req'];

const Capabilities = z.looseObject({ builtins: z.array(z.looseObject({ name: z.string() })) });
const capabilitiesCache = new Map<string, string>();

/**
 * OPA's own capabilities (`opa capabilities --current`) minus the forbidden builtins, with `allow_net: []` (no
 * remote schema fetching either). Computed once per OPA binary.
 */
export async function restrictedCapabilities(opa: string, signal?: AbortSignal): Promise<string> {
  const cached = capabilitiesCache.get(opa);
  if (cached) return cached;
  const r = await run(opa, ['capabilities', '--current'], {
    timeoutMs: 30_000,
    ...(signal ? { signal } : {}),
  });
  const caps = Capabilities.parse(JSON.parse(r.stdout));
  const forbidden = new Set(FORBIDDEN_BUILTINS);
  const text = JSON.stringify({
    ...caps,
    builtins: caps.builtins.filter((b) => !forbidden.has(b.name)),
    allow_net: [],
  });
  capabilitiesCache.set(opa, text);
  return text;
}

/** OPA's error JSON as "file:line: message" lines, paths as the user knows them (`shown` maps them). */
export function describeOpaErrors(
  stdout: string,
  repoRoot: string,
  shown?: (file: string) => string,
): string | undefined {
  try {
    const parsed = OpaErrors.safeParse(JSON.parse(stdout));
    if (!parsed.success) return undefined;
    return parsed.data.errors
      .map((e) => {
        const file = e.location?.file;
        const name = file ? (shown?.(file) ?? (file.startsWith(repoRoot) ? toRepoPath(repoRoot, file) : file)) : '';
        const where = file ? `${name}:${e.location?.row ?? 1}: ` : '';
        const builtin = /undefined function ([A-Za-z0-9_.]+)/.exec(e.message)?.[1];
        const why =
          builtin && FORBIDDEN_BUILTINS.includes(builtin)
            ? ` (${builtin} is not available to policies: OPA runs without network or environment access; policies may only judge the plan they are given)`
            : '';
        return `${where}${e.code ? `${e.code}: ` : ''}${e.message}${why}`;
      })
      .join('\n');
  } catch {
    return undefined;
  }
}

async function customPolicyFiles(
  repoRoot: string,
  config: PolicyConfig,
  fromDefault?: ScanInput['customPolicies'],
): Promise<{ files: string[]; shown: (file: string) => string } | { error: string }> {
  const none = { files: [], shown: (f: string) => f };
  if (!config.custom_policy_dir) return none;
  let dir: string;
  let base: string;
  let label: (rel: string) => string;
  if (fromDefault) {
    // The App: the folder as the default branch has it, never the PR's.
    if ('error' in fromDefault) return { error: fromDefault.error };
    dir = await realpath(fromDefault.dir);
    base = dir;
    label = (rel) => `${config.custom_policy_dir}/${rel} (default branch)`;
  } else {
    const root = await realpath(repoRoot);
    try {
      dir = await realpath(resolve(root, config.custom_policy_dir));
    } catch {
      return { error: `policy.custom_policy_dir "${config.custom_policy_dir}" does not exist` };
    }
    if (dir !== root && !dir.startsWith(root + sep))
      return { error: `policy.custom_policy_dir "${config.custom_policy_dir}" resolves outside the repository` };
    base = root;
    label = (rel) => rel;
  }
  const shown = (f: string) => (f.startsWith(base) ? label(relative(base, f).split(sep).join('/')) : f);
  const files = await listRegoFiles(dir);
  // A repo's policies add rules; they may not write into the default packages (or redefine their helpers).
  for (const f of files) {
    const text = await readFile(f, 'utf8');
    const lines = text.split('\n');
    const idx = lines.findIndex((l) => /^\s*package\s+/.test(l));
    const pkg = idx === -1 ? '' : (/^\s*package\s+([A-Za-z0-9_.]+)/.exec(lines[idx] ?? '')?.[1] ?? '');
    if (pkg !== 'infra_agent.custom' && !pkg.startsWith('infra_agent.custom.'))
      return {
        error: `${shown(f)}:${idx + 1}: custom policies must be in package infra_agent.custom.* (found "${pkg || 'none'}")`,
      };
  }
  return { files, shown };
}

function toFindings(values: unknown[], custom: boolean): { findings: Finding[]; invalid: number } {
  const findings: Finding[] = [];
  let invalid = 0;
  for (const v of values) {
    const p = RegoFinding.safeParse(v);
    if (!p.success) {
      invalid++;
      continue;
    }
    const f = p.data;
    findings.push(
      makeFinding({
        ruleId: f.rule_id,
        source: 'opa',
        severity: parseSeverity(f.severity, 'medium'),
        // A repo's own rule blocks until overridden unless it says otherwise.
        level: custom ? (f.level ?? 'soft') : 'advisory',
        address: f.address,
        message: f.message,
        remediation: f.remediation || undefined,
        notVerified: f.not_verified === true,
      }),
    );
  }
  return { findings, invalid };
}

export const opaScanner: Scanner = {
  name: 'opa',
  async run(input: ScanInput) {
    const started = Date.now();
    const tool = locateTool('opa');
    if ('reason' in tool) return notRun('opa', tool.reason, started);
    const version = await probeVersion(tool.path, ['version'], input.signal);
    const tmp = await privateTempDir('opa');
    try {
      const custom = await customPolicyFiles(input.repoRoot, input.config, input.customPolicies);
      if ('error' in custom) return failed('opa', custom.error, started, version);
      const defaults = await listRegoFiles(defaultPolicyDir());
      if (defaults.length === 0)
        return failed('opa', `no default policies found in ${defaultPolicyDir()}`, started, version);

      let document: unknown = input.planJson;
      if (document === undefined && input.planJsonPath)
        document = JSON.parse(await readFile(input.planJsonPath, 'utf8'));
      if (document === undefined) {
        const tree = await loadModuleTree(input.dir, input.repoRoot);
        // A file that does not parse would silently drop out of the HCL-built plan: that is no pass.
        if (tree.parseErrors.length > 0)
          return failed(
            'opa',
            `cannot evaluate the HCL: ${tree.parseErrors.map((e) => (e.message.startsWith(e.file) ? e.message : `${e.file}:${e.line}: ${e.message}`)).join('; ')}`,
            started,
            version,
          );
        document = planFromHcl(tree, { tfvars: await readTfvars(input.dir) });
      }

      const dataFile = join(tmp.dir, 'data.json');
      const { allowed_regions, required_tags, allowed_module_sources, allowed_providers } = input.config;
      await writePrivate(
        dataFile,
        JSON.stringify({
          infra_agent: { config: { allowed_regions, required_tags, allowed_module_sources, allowed_providers } },
        }),
      );
      const capsFile = join(tmp.dir, 'capabilities.json');
      await writePrivate(capsFile, await restrictedCapabilities(tool.path, input.signal));
      const args = ['eval', '--format', 'json', '--capabilities', capsFile, '--stdin-input', '--data', dataFile];
      for (const f of [...defaults, ...custom.files]) args.push('--data', f);
      args.push(custom.files.length > 0 ? QUERY_CUSTOM : QUERY_DEFAULT);
      let stdout: string;
      try {
        const r = await run(tool.path, args, {
          cwd: tmp.dir,
          env: { HOME: tmp.dir },
          input: JSON.stringify(document),
          timeoutMs: TIMEOUT_MS,
          // No network, nothing of the App: the policies and the data file only.
          sandbox: scannerPolicy({
            tool: tool.path,
            read: [defaultPolicyDir(), ...custom.files.map((f) => dirname(f))],
            scratch: tmp.dir,
          }),
          ...(input.signal ? { signal: input.signal } : {}),
        });
        stdout = r.stdout;
      } catch (err) {
        if (err instanceof ExecError && err.reason === 'exit') {
          const why = describeOpaErrors(err.stdout, input.repoRoot, custom.shown);
          if (why) return failed('opa', `policy error:\n${why}`, started, version);
        }
        throw err;
      }
      const parsed = OpaResult.parse(JSON.parse(stdout));
      const value = QueryValue.parse(parsed.result[0]?.expressions[0]?.value ?? {});
      const rules = toFindings(value.rules, false);
      const own = toFindings(value.custom, true);
      if (rules.invalid + own.invalid > 0)
        return {
          ...failed(
            'opa',
            `${rules.invalid + own.invalid} policy results are not {rule_id, severity, message, address, remediation} objects`,
            started,
            version,
          ),
          findings: [...rules.findings, ...own.findings],
        };
      return {
        name: 'opa',
        status: 'ok',
        ...(version ? { version } : {}),
        durationMs: Date.now() - started,
        findings: [...rules.findings, ...own.findings],
      };
    } catch (err) {
      return failed('opa', describeExecError(err), started, version);
    } finally {
      await tmp.remove();
    }
  },
};

// The policy gate: every scanner at once (the pre-plan guard too), then one verdict. `runPregate` is the guard on
// its own, for the pipeline to call before `terraform init`: when it blocks, init and plan never run.
import type { PolicyConfig } from '../config/schema.js';
import type { Finding, Override, ScannerRun, Verdict } from '../core/types.js';
import { type Existence, existenceOf, readTfvars, resolveExistence } from './existence.js';
import { loadModuleTree, type ModuleTree } from './module-tree.js';
import { SCANNERS } from './scanners/index.js';
import { type GuardOptions, runPregateOn } from './scanners/pregate.js';
import type { ScanInput, Scanner } from './scanners/types.js';
import { decideVerdict } from './verdict.js';

/** checkov names data sources without their `data.` prefix; the HCL index tells which they are. */
function withDataPrefix(f: Finding, tree: ModuleTree): Finding {
  if (!f.address || f.source !== 'checkov' || tree.locate(f.address)) return f;
  const m = /^((?:module\.[^.]+\.)*)(.+)$/.exec(f.address);
  const candidate = `${m?.[1] ?? ''}data.${m?.[2] ?? f.address}`;
  return tree.locate(candidate) ? { ...f, address: candidate } : f;
}

/**
 * A scanner finding's address as the module tree knows the block at its file:line: tfsec names a module resource by
 * its module call ("module.app"), checkov's directory scan leaves off the module prefix. Findings on the same block
 * then merge across scanners and get the fix for their resource type.
 */
export function readdress(f: Finding, tree: ModuleTree): Finding {
  if (!f.file || !f.line || f.source === 'pregate') return f;
  for (const mod of tree.modules) {
    const file = mod.files.find((x) => x.rel === f.file);
    if (!file) continue;
    const node = file.nodes.find(
      (n) =>
        (n.kind === 'resource' || n.kind === 'data') &&
        n.labels.length >= 2 &&
        n.line <= (f.line ?? 0) &&
        (f.line ?? 0) <= n.endLine,
    );
    if (!node) return f;
    const local = `${node.kind === 'data' ? 'data.' : ''}${node.labels[0]}.${node.labels[1]}`;
    const address = f.address ?? '';
    const base = address.replace(/\[[^\]]*\]/g, '');
    if (base === `${mod.prefix}${local}`) return f;
    const bareModule = /^(module\.[^.[]+(\[[^\]]*\])?\.?)+$/.test(address);
    const unprefixed = base === local || base === local.replace(/^data\./, '');
    if (address && !bareModule && !unprefixed) return f;
    const key = unprefixed ? (/(\[[^\]]*\])$/.exec(address)?.[1] ?? '') : '';
    // tfsec names the module call itself: that call, even when the tree loaded the dir under another one.
    const prefix = bareModule ? `${address.replace(/\.$/, '')}.` : mod.prefix;
    return { ...f, address: `${prefix}${local}${key}` };
  }
  return f;
}

export async function runPregate(
  dir: string,
  repoRoot: string,
  config: PolicyConfig,
  opts: Omit<GuardOptions, 'tree'> = {},
): Promise<ScannerRun> {
  return runPregateOn(dir, repoRoot, config, undefined, opts);
}

export interface GateInput extends ScanInput {
  overrides?: Override[];
  /** Defaults to every registered scanner. */
  scanners?: Scanner[];
  /** sha256 of the saved plan: overrides given for another plan are ignored. */
  planHash?: string;
}

/** Managed resource addresses (instance keys stripped) a plan holds. */
function plannedAddresses(plan: unknown): Set<string> | undefined {
  if (typeof plan !== 'object' || plan === null) return undefined;
  const changes = (plan as { resource_changes?: unknown }).resource_changes;
  if (!Array.isArray(changes)) return undefined;
  const out = new Set<string>();
  for (const rc of changes)
    if (typeof rc === 'object' && rc !== null) {
      const { address, mode } = rc as { address?: unknown; mode?: unknown };
      if (typeof address === 'string' && mode === 'managed') out.add(address.replace(/\[[^\]]*\]/g, ''));
    }
  return out;
}

/**
 * Without a plan: count/for_each/flags resolved from defaults and tfvars. With one: a managed resource the code
 * declares but the plan does not hold has no instance.
 */
async function existenceLookup(
  input: GateInput,
  tree: ModuleTree,
): Promise<(address: string | undefined) => Existence | undefined> {
  if (input.planJson === undefined && input.planJsonPath !== undefined) return () => undefined;
  if (input.planJson === undefined) {
    const map = resolveExistence(tree, await readTfvars(input.dir));
    return (address) => existenceOf(map, address);
  }
  const planned = plannedAddresses(input.planJson);
  if (!planned) return () => undefined;
  return (address) => {
    if (!address) return undefined;
    const base = address.replace(/\[[^\]]*\]/g, '');
    if (/(^|\.)data\./.test(base) || base.startsWith('provider') || !tree.locate(base)) return undefined;
    if (/^(module\.[^.]+\.)*module\.[^.]+$/.test(base)) return undefined;
    return planned.has(base) ? { status: 'yes' } : { status: 'no', why: 'the plan creates no instance of it' };
  };
}

export async function runGate(input: GateInput): Promise<Verdict> {
  const scanners = input.scanners ?? [...SCANNERS];
  // The HCL index gives plan-only findings their file:line; it is best effort (the guard reports bad HCL).
  const tree: Promise<ModuleTree | undefined> = loadModuleTree(input.dir, input.repoRoot).catch(() => undefined);
  const runs = await Promise.all(
    scanners.map(async (s): Promise<ScannerRun> => {
      const started = Date.now();
      try {
        return await s.run(input);
      } catch (err) {
        // A scanner is not supposed to throw; if one does, it failed, it did not pass.
        return {
          name: s.name,
          status: 'failed',
          durationMs: Date.now() - started,
          reason: err instanceof Error ? err.message : String(err),
          findings: [],
        };
      }
    }),
  );
  const index = await tree;
  const hasPlan = input.planJson !== undefined || input.planJsonPath !== undefined;
  if (index) for (const run of runs) run.findings = run.findings.map((f) => withDataPrefix(readdress(f, index), index));
  // Without a plan there are no instances: checkov's "x[0]" and our "x" are the same block.
  if (!hasPlan)
    for (const run of runs)
      run.findings = run.findings.map((f) =>
        f.address?.includes('[') ? { ...f, address: f.address.replace(/\[[^\]]*\]/g, '') } : f,
      );
  const existence = index ? await existenceLookup(input, index).catch(() => undefined) : undefined;
  return decideVerdict({
    scanners: runs,
    overrides: input.overrides ?? [],
    config: input.config,
    ...(input.planHash ? { planHash: input.planHash } : {}),
    ...(index ? { locate: index.locate } : {}),
    ...(existence ? { existence } : {}),
    evaluatedOn: hasPlan ? 'plan' : 'hcl',
  });
}

// The policy gate: every scanner at once (the pre-plan guard too), then one verdict. `runPregate` is the guard on
// its own, for the pipeline to call before `terraform init`: when it blocks, init and plan never run.
import type { PolicyConfig } from '../config/schema.js';
import type { Finding, Override, ScannerRun, Verdict } from '../core/types.js';
import { loadModuleTree, type ModuleTree } from './module-tree.js';
import { SCANNERS } from './scanners/index.js';
import { runPregateOn } from './scanners/pregate.js';
import type { ScanInput, Scanner } from './scanners/types.js';
import { decideVerdict } from './verdict.js';

/** checkov names data sources without their `data.` prefix; the HCL index tells which they are. */
function withDataPrefix(f: Finding, tree: ModuleTree): Finding {
  if (!f.address || f.source !== 'checkov' || tree.locate(f.address)) return f;
  const m = /^((?:module\.[^.]+\.)*)(.+)$/.exec(f.address);
  const candidate = `${m?.[1] ?? ''}data.${m?.[2] ?? f.address}`;
  return tree.locate(candidate) ? { ...f, address: candidate } : f;
}

export async function runPregate(dir: string, repoRoot: string, config: PolicyConfig): Promise<ScannerRun> {
  return runPregateOn(dir, repoRoot, config);
}

export interface GateInput extends ScanInput {
  overrides?: Override[];
  /** Defaults to every registered scanner. */
  scanners?: Scanner[];
  /** sha256 of the saved plan: overrides given for another plan are ignored. */
  planHash?: string;
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
  if (index) for (const run of runs) run.findings = run.findings.map((f) => withDataPrefix(f, index));
  return decideVerdict({
    scanners: runs,
    overrides: input.overrides ?? [],
    config: input.config,
    ...(input.planHash ? { planHash: input.planHash } : {}),
    ...(index ? { locate: index.locate } : {}),
  });
}

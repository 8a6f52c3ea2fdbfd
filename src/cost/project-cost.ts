// One project's cost, the way the pipeline, the agent and the CLI all get it: Infracost when configured and
// available, else (or when it fails) the built-in table with a warning line saying why; the repo's usage file
// either way. Never fails a run: a bad usage file or a failed Infracost becomes a warning in the report. Bad input
// the user gave directly (the CLI) may ask for errors instead (`strict`).
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import type { CostConfig } from '../config/schema.js';
import type { ProjectCost } from '../core/types.js';
import { redact } from '../util/redact.js';
import { estimatePlanCost } from './estimate.js';
import { findInfracost, infracostToProjectCost, runInfracost } from './infracost.js';
import { readUsageFile, type UsageFile, UsageFileError } from './usage-file.js';

export interface ProjectCostOptions {
  planJson: unknown;
  /** Absolute directory of the project (the usage file is relative to it). */
  projectDir: string;
  /** The project dir relative to the repository root, for messages ('.' for the root). */
  projectPath?: string;
  config: CostConfig;
  /** Where INFRACOST_API_KEY and INFRA_AGENT_INFRACOST_BIN are read (default process.env). */
  env?: NodeJS.ProcessEnv;
  signal?: AbortSignal;
  /** Throw on a malformed usage file instead of reporting it (the CLI). */
  strict?: boolean;
}

function message(err: unknown): string {
  return redact(err instanceof Error ? err.message : String(err)).split('\n')[0] ?? '';
}

export async function estimateProjectCost(opts: ProjectCostOptions): Promise<ProjectCost> {
  const env = opts.env ?? process.env;
  const warnings: string[] = [];
  const usagePath = join(opts.projectDir, opts.config.usage_file);
  const shownAs = posix.join(opts.projectPath ?? '.', opts.config.usage_file);
  let usage: UsageFile | undefined;
  try {
    usage = await readUsageFile(usagePath, shownAs);
  } catch (err) {
    if (opts.strict || !(err instanceof UsageFileError)) throw err;
    warnings.push(`${err.message}; usage-priced resources are not estimated`);
  }

  const apiKey = env['INFRACOST_API_KEY'];
  const wanted = opts.config.engine === 'infracost' || (opts.config.engine === 'auto' && Boolean(apiKey));
  if (wanted) {
    const binary = findInfracost(env);
    if (!apiKey) {
      warnings.push('cost.engine is infracost but INFRACOST_API_KEY is not set for the App: built-in prices used');
    } else if (!binary) {
      warnings.push(
        'Infracost is configured but its binary was not found (INFRA_AGENT_INFRACOST_BIN, .tools/bin, PATH): built-in prices used',
      );
    } else {
      const dir = await mkdtemp(join(tmpdir(), 'infra-agent-cost-'));
      try {
        // The plan JSON holds secrets in clear: 0600, in a private dir, gone afterwards.
        const planJsonPath = join(dir, 'plan.json');
        await writeFile(planJsonPath, JSON.stringify(opts.planJson), { mode: 0o600 });
        const output = await runInfracost({
          binary,
          apiKey,
          planJsonPath,
          ...(usage ? { usageFile: usagePath } : {}),
          ...(opts.signal ? { signal: opts.signal } : {}),
        });
        const cost = infracostToProjectCost(output, opts.planJson);
        return { ...cost, warnings: [...warnings, ...cost.warnings] };
      } catch (err) {
        if (opts.signal?.aborted) throw err;
        warnings.push(`Infracost could not price this plan (${message(err)}): built-in prices used`);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    }
  }
  const cost = estimatePlanCost(opts.planJson, {
    ...(usage ? { usage } : {}),
    customPrices: opts.config.custom_prices,
  });
  return { ...cost, warnings };
}

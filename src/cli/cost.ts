// `infra-agent cost <dir> [--plan plan.json] [--format markdown|json] [--config file]`: what a plan costs per month,
// before and after, per resource. Without --plan it plans the directory itself (after the pre-plan guard allows it).
// Exit 0 with the estimate, 2 on an error (bad arguments, malformed plan, config, usage file or price table).
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { defaultRepoConfig, type RepoConfig } from '../config/schema.js';
import { estimateProjectCost } from '../cost/project-cost.js';
import { renderCostMarkdown } from '../report/cost-markdown.js';
import { redact } from '../util/redact.js';
import { findRepoRoot, loadCheckConfig, planBehindGuard, readPlanJson, UsageError } from './check.js';

const USAGE = 'usage: infra-agent cost <dir> [--plan plan.json] [--format markdown|json] [--config file]';

/** Plans the directory behind the pre-plan guard (before init and on what init downloaded), as `check` does. */
async function planDirectory(dir: string, repoRoot: string, config: RepoConfig): Promise<unknown> {
  const planned = await planBehindGuard(dir, repoRoot, config.policy);
  if ('planJson' in planned) {
    if (planned.dataDir) await rm(planned.dataDir, { recursive: true, force: true });
    return planned.planJson;
  }
  throw new UsageError(`${dir} was not planned (${redact(planned.why)}): pass --plan plan.json`);
}

export async function main(args: string[]): Promise<number> {
  try {
    const { values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      options: {
        plan: { type: 'string' },
        format: { type: 'string', default: 'markdown' },
        config: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
    if (values.help) {
      process.stdout.write(`${USAGE}\n`);
      return 0;
    }
    if (positionals.length !== 1 || !positionals[0]) throw new UsageError(USAGE);
    const format = values.format ?? 'markdown';
    if (format !== 'markdown' && format !== 'json') throw new UsageError('--format must be one of markdown, json');
    const dir = resolve(positionals[0]);
    if (!existsSync(dir)) throw new UsageError(`${positionals[0]}: no such directory`);
    const repoRoot = findRepoRoot(dir);
    const config = (await loadCheckConfig(values.config, repoRoot)) ?? defaultRepoConfig();
    const planJson = values.plan
      ? await readPlanJson(resolve(values.plan))
      : await planDirectory(dir, repoRoot, config);
    const cost = await estimateProjectCost({
      planJson,
      projectDir: dir,
      projectPath: relative(repoRoot, dir) || '.',
      config: config.cost,
      strict: true,
    });
    for (const w of cost.warnings) process.stderr.write(`infra-agent cost: warning: ${redact(w)}\n`);
    const text =
      format === 'json'
        ? JSON.stringify({ project: positionals[0], ...cost }, null, 2)
        : renderCostMarkdown(cost, { title: `Cost / month: ${positionals[0]}` });
    process.stdout.write(`${text.trimEnd()}\n`);
    return 0;
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    process.stderr.write(`infra-agent cost: ${redact(message)}\n`);
    return 2;
  }
}

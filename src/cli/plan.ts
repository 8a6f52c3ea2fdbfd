// `infra-agent plan <dir> [--format markdown|json]`: init (with backend) + plan a root module to a temporary plan
// file and print its summary. A failed init/plan prints Terraform's diagnostics as `file:line: summary — detail`
// (exit 1); a missing terraform names the setup command (exit 2). Nothing is ever applied here.
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { isAbsolute, join, relative } from 'node:path';
import { parseArgs } from 'node:util';
import type { Diagnostic } from '../core/types.js';
import { formatDiagnostic } from '../terraform/diagnostics.js';
import { TerraformError } from '../terraform/engine.js';
import { PlanJsonError, renderPlanSummaryMarkdown, summarizePlan } from '../terraform/plan-summary.js';
import { readDirCommand, terraformFor } from './args.js';

const USAGE =
  'usage: infra-agent plan <dir> [--format markdown|json] [--workspace NAME] [--var NAME=VALUE]... [--destroy] [--refresh=false]\n';

function parse(args: string[]) {
  return parseArgs({
    args,
    options: {
      format: { type: 'string', short: 'f', default: 'markdown' },
      workspace: { type: 'string', short: 'w', default: 'default' },
      var: { type: 'string', multiple: true, default: [] },
      destroy: { type: 'boolean', default: false },
      refresh: { type: 'string', default: 'true' },
    },
    allowPositionals: true,
    strict: true,
  });
}

/** A path as the user would type it: relative to where they are when inside it, else absolute. */
function display(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel === '' ? '.' : rel.startsWith('..') || isAbsolute(rel) ? path : rel;
}

/** Paths in diagnostics are relative to the module dir; show them from where the user is. */
function located(d: Diagnostic, dir: string): Diagnostic {
  if (!d.file) return d;
  return { ...d, file: display(join(dir, d.file)) };
}

function hasTerraformFiles(dir: string): boolean {
  return readdirSync(dir).some((f) => f.endsWith('.tf') || f.endsWith('.tf.json'));
}

export async function main(args: string[]): Promise<number> {
  const read = readDirCommand('plan', USAGE, () => parse(args));
  if (typeof read === 'number') return read;
  const { values, format, dir } = read;
  const vars: Record<string, string> = {};
  for (const kv of values.var) {
    const eq = kv.indexOf('=');
    if (eq <= 0) {
      process.stderr.write(`infra-agent plan: --var needs NAME=VALUE, got '${kv}'\n`);
      return 2;
    }
    vars[kv.slice(0, eq)] = kv.slice(eq + 1);
  }

  if (!hasTerraformFiles(dir)) {
    process.stderr.write(`infra-agent plan: no Terraform files (.tf / .tf.json) in ${dir}\n`);
    return 1;
  }

  const tf = terraformFor('plan');
  if (typeof tf === 'number') return tf;

  const scratch = mkdtempSync(join(tmpdir(), 'infra-agent-plan-'));
  const planFile = join(scratch, 'plan.tfplan');
  try {
    await tf.init(dir);
    await tf.selectWorkspace(dir, values.workspace);
    const result = await tf.plan(dir, {
      out: planFile,
      vars,
      destroy: values.destroy,
      refresh: values.refresh !== 'false',
    });
    const summary = summarizePlan(await tf.showPlanJson(dir, planFile));
    const diagnostics = result.diagnostics.map((d) => located(d, dir));
    if (format === 'json') {
      process.stdout.write(`${JSON.stringify({ summary, diagnostics }, null, 2)}\n`);
    } else {
      const title = `${display(dir)}${values.workspace === 'default' ? '' : ` (${values.workspace})`}`;
      process.stdout.write(renderPlanSummaryMarkdown(summary, { title }));
      for (const d of diagnostics) process.stdout.write(`\n${formatDiagnostic(d)}\n`);
    }
    return 0;
  } catch (err) {
    if (err instanceof TerraformError) {
      const diagnostics = err.diagnostics.map((d) => located(d, dir));
      if (format === 'json') {
        process.stdout.write(`${JSON.stringify({ summary: null, diagnostics, error: err.command }, null, 2)}\n`);
      }
      process.stderr.write(`infra-agent plan: ${err.command} failed\n`);
      if (diagnostics.length > 0) for (const d of diagnostics) process.stderr.write(`${formatDiagnostic(d)}\n`);
      else process.stderr.write(`${err.message}\n`);
      return 1;
    }
    if (err instanceof PlanJsonError) {
      process.stderr.write(`infra-agent plan: ${err.message}\n`);
      return 1;
    }
    throw err;
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

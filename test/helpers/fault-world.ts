// What the fault-injection suites share: an agent stub that writes one resource per run and then runs the real checks
// (the model is not what those suites test), real terraform without the scanners (their cost is not either), and a
// poll helper.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { AgentResult } from '../../src/agent/loop.js';
import { runChecks } from '../../src/stages/checks.js';
import type { AgentRunner, Checker } from '../../src/stages/deps.js';

export { waitFor } from './wait.js';

/** The agent, reduced to what these tests need: one new resource per issue, then the real checks. */
export const stubAgent: AgentRunner = async (task) => {
  const name = `change_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`;
  const file = `${name}.tf`;
  await writeFile(
    join(task.repoRoot, task.project.dir, file),
    `resource "terraform_data" "${name}" {\n  input = "x"\n}\n`,
  );
  const finalChecks = await task.checks();
  const result: AgentResult = {
    status: 'finished',
    title: `Add ${name}`,
    summary: `Adds \`terraform_data.${name}\`.`,
    notes: '',
    costNotes: '',
    costEstimates: 0,
    filesChanged: [file],
    finalChecks,
    usage: {
      inputTokens: 0,
      outputTokens: 0,
      cacheReadTokens: 0,
      cacheWriteTokens: 0,
      costUsd: 0,
      turns: 1,
      durationMs: 0,
    },
    transcript: [],
  };
  return result;
};

/** Real terraform (fmt, guard, init, validate, plan); scanners left out. */
export const terraformOnly: Checker = (opts) => runChecks({ ...opts, scanners: { static: [], plan: [] } });

// #18: one module owns a run's state machine. Every change of a run's status, stage, attempt, worker, heartbeat or
// start/finish time goes through src/stages/run-state.ts; the store only stores the row, and nothing else in src/
// patches those fields. The scan reads each `updateRun(` / `transitionRun(` call's arguments (parentheses balanced).
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { projectRoot } from '../../src/toolchain/tools.js';

const STATE_FIELDS = /\b(status|stage|attempt|workerId|heartbeatAt|startedAt|finishedAt)\s*:/;

/** The argument text of every `updateRun(` / `transitionRun(` call in `source` that sets a state field. */
function stateWrites(source: string): string[] {
  const hits: string[] = [];
  for (const m of source.matchAll(/\b(updateRun|transitionRun)\(/g)) {
    let depth = 1;
    let i = (m.index ?? 0) + m[0].length;
    const start = i;
    while (i < source.length && depth > 0) {
      if (source[i] === '(') depth++;
      else if (source[i] === ')') depth--;
      i++;
    }
    const args = source.slice(start, i - 1);
    if (STATE_FIELDS.test(args)) hits.push(`${m[1]}(${args.replace(/\s+/g, ' ').slice(0, 120)})`);
  }
  return hits;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts'))
    .map((e) => join(e.parentPath, e.name));
}

describe('a run’s state machine has one owner', () => {
  it('finds a state write, and ignores a patch of other fields (the scan can fail)', () => {
    expect(stateWrites("await store.updateRun(id, { status: 'failed', error: f(x) });")).toHaveLength(1);
    expect(stateWrites('await store.transitionRun(id, ["running"], {\n  heartbeatAt: new Date() });')).toHaveLength(1);
    expect(stateWrites('await deps.store.updateRun(job.runId, { links: { pr: url }, usage: f(a, b) });')).toEqual([]);
  });

  it('nothing in src/ but stages/run-state.ts (and the store itself) writes a run’s state', () => {
    const root = projectRoot();
    const offenders: string[] = [];
    for (const file of sourceFiles(join(root, 'src'))) {
      const rel = relative(root, file);
      if (rel === join('src', 'stages', 'run-state.ts') || rel.startsWith(join('src', 'store') + '/')) continue;
      for (const hit of stateWrites(readFileSync(file, 'utf8'))) offenders.push(`${rel}: ${hit}`);
    }
    expect(offenders).toEqual([]);
  });
});

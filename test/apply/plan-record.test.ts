// The plan set a plan run records: saved plans checksummed against the hash the report showed, failed projects kept
// with their reason, and unreadable records treated as "never planned" rather than trusted.
import { randomBytes } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadGate, loadPlanSet, planSetKey, recordReviewedPlans, sha256 } from '../../src/apply/plan-record.js';
import { defaultRepoConfig } from '../../src/config/schema.js';
import type { ChecksResult } from '../../src/core/types.js';
import { decideVerdict } from '../../src/policy/verdict.js';
import { createStore } from '../../src/store/create-store.js';
import type { SqlStore } from '../../src/store/sql-store.js';
import { ONE_ADD_SUMMARY } from '../helpers/plan-summary.js';

let store: SqlStore;
let dir: string;
beforeAll(async () => {
  store = await createStore({ dataDir: 'memory://', planKey: randomBytes(32).toString('base64') });
  dir = await mkdtemp(join(tmpdir(), 'plan-record-'));
});
afterAll(async () => {
  await store.close();
});

const summary = ONE_ADD_SUMMARY;

function result(name: string, plan?: { file: string; hash: string }): ChecksResult {
  const verdict = decideVerdict({ scanners: [], overrides: [], config: defaultRepoConfig().policy });
  return {
    project: { name, dir: name, workspace: 'default', dependsOn: name === 'app' ? ['network'] : [] },
    ok: plan !== undefined,
    stages: plan ? [] : [{ name: 'init', status: 'failed', durationMs: 1, message: 'provider not found\nmore' }],
    formatted: [],
    diagnostics: [],
    ...(plan ? { plan: { ...plan, summary, text: '' } } : {}),
    verdict,
    durationMs: 1,
  };
}

describe('recordReviewedPlans', () => {
  it('saves each plan bound to head, base and hash, keeps failed projects with their reason', async () => {
    const bytes = randomBytes(300);
    const file = join(dir, 'ok.tfplan');
    await writeFile(file, bytes);
    const set = await recordReviewedPlans(store, {
      repo: 'acme/r1',
      pr: 3,
      headSha: 'a'.repeat(40),
      baseSha: 'b'.repeat(40),
      runId: 'run-9',
      results: [result('network', { file, hash: sha256(bytes) }), result('app')],
    });
    expect(set.projects.map((p) => [p.name, p.planHash, p.error])).toEqual([
      ['network', sha256(bytes), undefined],
      ['app', null, 'provider not found\nmore'],
    ]);
    expect(await loadPlanSet(store, 'acme/r1', 3)).toEqual(set);
    const saved = await store.getPlan({
      repo: 'acme/r1',
      pr: 3,
      project: 'network',
      workspace: 'default',
      planHash: sha256(bytes),
    });
    expect(saved?.bytes.equals(bytes)).toBe(true);
    expect(saved).toMatchObject({ headSha: 'a'.repeat(40), baseSha: 'b'.repeat(40), runId: 'run-9' });
    expect(
      await loadGate(store, {
        repo: 'acme/r1',
        pr: 3,
        project: 'network',
        workspace: 'default',
        planHash: sha256(bytes),
      }),
    ).toEqual([]);
  });

  it('refuses a plan file that changed after it was summarised, and short SHAs', async () => {
    const file = join(dir, 'changed.tfplan');
    await writeFile(file, 'after');
    const base = { repo: 'acme/r2', pr: 1, runId: 'r', baseSha: 'b'.repeat(40) };
    await expect(
      recordReviewedPlans(store, {
        ...base,
        headSha: 'a'.repeat(40),
        results: [result('n', { file, hash: sha256(Buffer.from('before')) })],
      }),
    ).rejects.toThrow('changed after it was summarised');
    await expect(recordReviewedPlans(store, { ...base, headSha: 'abc', results: [] })).rejects.toThrow(
      'full commit SHAs',
    );
    expect(await loadPlanSet(store, 'acme/r2', 1)).toBeUndefined();
  });

  it('an unreadable plan set record counts as no plan', async () => {
    await store.putKey(planSetKey('acme/r3', 1), '{"repo":"acme/r3","pr":1,"headSha":"nope"}');
    expect(await loadPlanSet(store, 'acme/r3', 1)).toBeUndefined();
    await store.putKey(planSetKey('acme/r3', 2), 'not json');
    expect(await loadPlanSet(store, 'acme/r3', 2)).toBeUndefined();
  });
});

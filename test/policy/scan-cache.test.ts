// The scanner result cache (result-cache.ts) with real tfsec and OPA: an unchanged tree (and plan) is served from
// the cache, and anything the result depends on — a file, the plan, the policy config, the bundled or the custom
// Rego, the scanner binary or its version — misses it. Only a good run over files that did not change while it
// scanned is stored.
import { chmod, cp, mkdir, mkdtemp, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { PolicyConfigSchema } from '../../src/config/schema.js';
import type { ScannerRun } from '../../src/core/types.js';
import { opaScanner } from '../../src/policy/scanners/opa.js';
import { cachedScan, scanKey } from '../../src/policy/scanners/result-cache.js';
import { tfsecScanner } from '../../src/policy/scanners/tfsec.js';
import type { ScanInput } from '../../src/policy/scanners/types.js';
import { findTool } from '../../src/toolchain/tools.js';
import { describeWithTools } from '../helpers/tools.js';

const VULNERABLE = resolve(import.meta.dirname, '../fixtures/policy/vulnerable');
const PLAN = resolve(import.meta.dirname, '../fixtures/policy/plans/vulnerable.json');
const config = PolicyConfigSchema.parse({ required_tags: ['owner'] });

let base: string;
let repo: string;
let rego: string;
beforeAll(async () => {
  base = await mkdtemp(join(tmpdir(), 'scan-cache-'));
  repo = join(base, 'repo');
  rego = join(base, 'rego');
  await cp(VULNERABLE, repo, { recursive: true });
  await mkdir(rego);
  await writeFile(join(rego, 'custom.rego'), 'package custom\n\ndeny[msg] { false; msg := "never" }\n');
});
afterAll(() => rm(base, { recursive: true, force: true }));

function inputFor(over: Partial<ScanInput> = {}): ScanInput {
  return { dir: repo, repoRoot: repo, config, customPolicies: { dir: rego }, ...over };
}

/** A scan through the cache, counting how often tfsec really ran. */
let scans = 0;
async function scanned(input: ScanInput): Promise<{ run: ScannerRun; hit: boolean }> {
  return cachedScan(tfsecScanner, input, () => {
    scans++;
    return tfsecScanner.run(input);
  });
}
const withoutTime = (r: ScannerRun) => ({ ...r, durationMs: 0 });

describeWithTools(['tfsec'], 'static scanner result cache (real tfsec)', () => {
  let first: ScannerRun;
  beforeAll(async () => {
    const r = await scanned(inputFor());
    expect(r.hit).toBe(false);
    first = r.run;
  });

  it('an unchanged tree is served from the cache, with the same findings and version', async () => {
    expect(first.status).toBe('ok');
    expect(first.findings.length).toBeGreaterThan(0);
    const before = scans;
    const again = await scanned(inputFor());
    expect(again.hit).toBe(true);
    expect(scans).toBe(before);
    expect(withoutTime(again.run)).toEqual(withoutTime(first));
  });

  it('the same content in another checkout path hits (findings are repo-relative)', async () => {
    const other = join(base, 'clone');
    await cp(repo, other, { recursive: true });
    const r = await scanned({ ...inputFor(), dir: other, repoRoot: other });
    expect(r.hit).toBe(true);
    expect(withoutTime(r.run)).toEqual(withoutTime(first));
  });

  it('a changed file misses, and the original content hits again', async () => {
    const file = join(repo, 's3.tf');
    const original = await readFile(file, 'utf8');
    await writeFile(file, `${original}\n# changed\n`);
    try {
      expect((await scanned(inputFor())).hit).toBe(false);
    } finally {
      await writeFile(file, original);
    }
    expect((await scanned(inputFor())).hit).toBe(true);
  });

  it('a new file anywhere in the checkout misses (the scanners read the whole tree)', async () => {
    const extra = join(repo, 'docs', 'notes.txt');
    await mkdir(join(repo, 'docs'), { recursive: true });
    await writeFile(extra, 'password = "hunter2hunter2"\n');
    try {
      expect((await scanned(inputFor())).hit).toBe(false);
    } finally {
      await rm(join(repo, 'docs'), { recursive: true, force: true });
    }
  });

  it('a changed policy config misses', async () => {
    const other = PolicyConfigSchema.parse({ required_tags: ['owner', 'team'] });
    expect((await scanned(inputFor({ config: other }))).hit).toBe(false);
  });

  it('changed custom Rego, or none at all, misses', async () => {
    const file = join(rego, 'custom.rego');
    const original = await readFile(file, 'utf8');
    await writeFile(file, `${original}\n# v2\n`);
    try {
      expect((await scanned(inputFor())).hit).toBe(false);
    } finally {
      await writeFile(file, original);
    }
    expect((await scanned(inputFor({ customPolicies: { error: 'unreadable' } }))).hit).toBe(false);
  });

  it('a failed run is not stored', async () => {
    await writeFile(join(repo, 'failed.tf'), '# a tree no one scanned yet\n');
    try {
      const broken = await cachedScan(tfsecScanner, inputFor(), async () => ({
        name: 'tfsec',
        status: 'failed',
        durationMs: 1,
        reason: 'crashed',
        findings: [],
      }));
      expect(broken.hit).toBe(false);
      const before = scans;
      expect((await scanned(inputFor())).hit).toBe(false);
      expect(scans).toBe(before + 1);
    } finally {
      await rm(join(repo, 'failed.tf'));
    }
  });

  it('files that change while the scanner reads them are not stored', async () => {
    const file = join(repo, 'racy.tf');
    await writeFile(file, '# before\n');
    try {
      const r = await cachedScan(tfsecScanner, inputFor(), async () => {
        const out = await tfsecScanner.run(inputFor());
        await writeFile(file, '# written during the scan\n');
        return out;
      });
      expect(r.hit).toBe(false);
      // The tree now is what was there after the scan; nothing was stored for either content.
      expect((await scanned(inputFor())).hit).toBe(false);
      await writeFile(file, '# before\n');
      expect((await scanned(inputFor())).hit).toBe(false);
    } finally {
      await rm(file, { force: true });
    }
  });
});

describeWithTools(['opa'], 'plan scanner result cache (real OPA on a plan)', () => {
  let plan: Record<string, unknown>;
  let opaRuns = 0;
  const viaCache = (input: ScanInput) =>
    cachedScan(opaScanner, input, () => {
      opaRuns++;
      return opaScanner.run(input);
    });
  beforeAll(async () => {
    const parsed: unknown = JSON.parse(await readFile(PLAN, 'utf8'));
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('plan fixture');
    plan = Object.fromEntries(Object.entries(parsed));
  });

  it('the same plan (made at another time) hits; another plan, or none, misses', async () => {
    const first = await viaCache(inputFor({ planJson: { ...plan, timestamp: '2026-12-01T00:00:00Z' } }));
    expect(first.hit).toBe(false);
    expect(first.run.status).toBe('ok');
    expect(first.run.findings.length).toBeGreaterThan(0);
    const runs = opaRuns;
    const again = await viaCache(inputFor({ planJson: { ...plan, timestamp: '2026-12-02T00:00:00Z' } }));
    expect(again.hit).toBe(true);
    expect(opaRuns).toBe(runs);
    expect(withoutTime(again.run)).toEqual(withoutTime(first.run));
    // relevant_attributes comes in a different order from run to run: the same plan still.
    const attrs = [
      { resource: 'aws_s3_bucket.a', attribute: ['id'] },
      { resource: 'aws_s3_bucket.b', attribute: ['arn'] },
    ];
    const ordered = await viaCache(inputFor({ planJson: { ...plan, relevant_attributes: attrs } }));
    const reordered = await viaCache(inputFor({ planJson: { ...plan, relevant_attributes: [...attrs].reverse() } }));
    expect(ordered.hit).toBe(false);
    expect(reordered.hit).toBe(true);
    const changed = { ...plan, resource_changes: [] };
    const other = await viaCache(inputFor({ planJson: changed }));
    expect(other.hit).toBe(false);
    expect(other.run.findings).not.toEqual(first.run.findings);
    expect((await viaCache(inputFor())).hit).toBe(false);
  });

  it('the bundled Rego is policy: another INFRA_AGENT_POLICY_DIR misses', async () => {
    const saved = process.env['INFRA_AGENT_POLICY_DIR'];
    const input = inputFor({ planJson: plan });
    await viaCache(input);
    expect((await viaCache(input)).hit).toBe(true);
    const copy = join(base, 'bundled');
    await cp(resolve(import.meta.dirname, '../../policies'), copy, { recursive: true });
    await writeFile(join(copy, 'extra.rego'), 'package infra_agent.rules.extra\n');
    process.env['INFRA_AGENT_POLICY_DIR'] = copy;
    try {
      expect(await scanKey(opaScanner, input)).not.toBe(undefined);
      expect((await viaCache(input)).hit).toBe(false);
    } finally {
      if (saved === undefined) delete process.env['INFRA_AGENT_POLICY_DIR'];
      else process.env['INFRA_AGENT_POLICY_DIR'] = saved;
    }
  });
});

describe('static scanner result cache: the scanner binary and its version are in the key', () => {
  const saved = process.env['INFRA_AGENT_TFSEC_BIN'];
  afterEach(() => {
    if (saved === undefined) delete process.env['INFRA_AGENT_TFSEC_BIN'];
    else process.env['INFRA_AGENT_TFSEC_BIN'] = saved;
  });

  it('another version of the tool at the same path, or another binary, gives another key', async () => {
    const real = findTool('tfsec');
    const bin = join(base, 'bin');
    await mkdir(bin, { recursive: true });
    const tool = join(bin, 'tfsec');
    const fake = async (version: string, when: number) => {
      await writeFile(tool, `#!/bin/sh\necho "${version}"\n`);
      await chmod(tool, 0o755);
      await utimes(tool, when, when);
    };
    process.env['INFRA_AGENT_TFSEC_BIN'] = tool;
    await fake('v1.28.1', 1_700_000_000);
    const k1 = await scanKey(tfsecScanner, inputFor());
    const k1again = await scanKey(tfsecScanner, inputFor());
    await fake('v1.28.2', 1_700_000_100);
    const k2 = await scanKey(tfsecScanner, inputFor());
    expect(k1).toBeDefined();
    expect(k1again).toBe(k1);
    expect(k2).toBeDefined();
    expect(k2).not.toBe(k1);
    if (real) {
      process.env['INFRA_AGENT_TFSEC_BIN'] = real;
      const k3 = await scanKey(tfsecScanner, inputFor());
      expect(k3).toBeDefined();
      expect(k3).not.toBe(k1);
      expect(k3).not.toBe(k2);
    }
  });

  it('injected scanners, a plan file without its JSON and the guard on a data dir are never cached', async () => {
    const fakeScanner = { name: 'tfsec' as const, run: tfsecScanner.run };
    expect(await scanKey(fakeScanner, inputFor())).toBeUndefined();
    expect(await scanKey(tfsecScanner, inputFor({ planJsonPath: join(base, 'plan.json') }))).toBeUndefined();
    expect(await scanKey(tfsecScanner, inputFor({ dataDir: base }))).toBeUndefined();
  });
});

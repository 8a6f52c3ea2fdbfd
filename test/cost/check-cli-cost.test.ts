// `infra-agent check` with cost: the cost in the markdown, JSON and SARIF outputs, the budget as a soft finding
// (exit 1 until overridden), and cost.require_tags through the tag rule OPS-TAG-001 — on the repo's compliant fixture
// (its plan: a Multi-AZ db.t3.micro in eu-west-1 and a KMS key, $33.82 a month) with the real scanners.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { main } from '../../src/cli/check.js';
import { captureOutput } from '../helpers/capture-output.js';
import { describeWithTools } from '../helpers/tools.js';

const FIXTURES = resolve(import.meta.dirname, '../fixtures/policy');

async function check(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const r = await captureOutput(() => main(args));
  return { code: r.code, stdout: r.out, stderr: r.err };
}

describeWithTools(['tfsec', 'checkov', 'opa'], 'check with cost', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'check-cost-'));
  });
  afterAll(async () => rm(dir, { recursive: true, force: true }));
  const args = (cfg: string, format: string) => [
    join(FIXTURES, 'compliant'),
    '--plan',
    join(FIXTURES, 'plans/compliant.json'),
    '--config',
    cfg,
    '--format',
    format,
  ];

  it('a budget below the increase is a soft finding; the cost is in JSON, SARIF and markdown; require_tags reach OPS-TAG-001', async () => {
    const cfg = join(dir, 'budget.yml');
    await writeFile(cfg, 'cost:\n  max_monthly_increase_usd: 25\n  require_tags: [cost-center]\n');
    const json = await check(args(cfg, 'json'));
    expect(json.code, json.stderr).toBe(1);
    const out = JSON.parse(json.stdout) as {
      verdict: string;
      findings: { ruleId: string; level: string; message: string }[];
      cost: { before: number; after: number; delta: number };
      scanners: { name: string; status: string }[];
    };
    expect(out.verdict).toBe('needs-override');
    expect(out.cost).toMatchObject({ before: 0, after: 33.82, delta: 33.82 });
    const budget = out.findings.find((f) => f.ruleId === 'COST-BUDGET-001');
    expect(budget).toMatchObject({ level: 'soft' });
    expect(budget?.message).toContain(
      '+$33.82 a month ($0.00 → $33.82), over the budget of $25.00 a month per project',
    );
    expect(out.scanners.find((s) => s.name === 'cost')?.status).toBe('ok');
    const tags = out.findings.filter((f) => f.ruleId === 'OPS-TAG-001');
    expect(tags.length).toBeGreaterThan(0);
    expect(tags.map((t) => t.message).join('\n')).toContain('cost-center');

    const sarif = JSON.parse((await check(args(cfg, 'sarif'))).stdout) as {
      runs: { properties: { cost: { after: number } }; results: { ruleId: string }[] }[];
    };
    expect(sarif.runs[0]?.properties.cost.after).toBe(33.82);
    expect(sarif.runs[0]?.results.map((r) => r.ruleId)).toContain('COST-BUDGET-001');
    const md = await check(args(cfg, 'markdown'));
    expect(md.stdout).toContain('**Cost / month: $0.00 → $33.82 (+$33.82)**');
  }, 300_000);

  it('within the budget the verdict is unchanged (pass, exit 0)', async () => {
    const cfg = join(dir, 'roomy.yml');
    await writeFile(cfg, 'cost:\n  max_monthly_increase_usd: 50\n');
    const r = await check(args(cfg, 'json'));
    expect(r.code, r.stdout).toBe(0);
    expect((JSON.parse(r.stdout) as { findings: { ruleId: string }[] }).findings.map((f) => f.ruleId)).not.toContain(
      'COST-BUDGET-001',
    );
  }, 300_000);
});

// OPA runs the repo's own Rego with a capabilities file that removes the builtins reaching the network or the
// environment: a policy calling them fails to compile (the scanner fails, naming the builtin) instead of making a
// request. And when the App hands it the default branch's policy folder, the checkout's folder is never read.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { PolicyConfigSchema } from '../../src/config/schema.js';
import { opaScanner, restrictedCapabilities } from '../../src/policy/scanners/opa.js';
import { requireTool } from '../../src/toolchain/tools.js';
import { describeWithTools } from '../helpers/tools.js';

const config = PolicyConfigSchema.parse({ custom_policy_dir: 'policy' });
const MAIN = 'resource "terraform_data" "a" {\n  input = "x"\n}\n';
const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

async function repoWith(policies: Record<string, string>): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'opa-caps-'));
  dirs.push(root);
  await writeFile(join(root, 'main.tf'), MAIN);
  await mkdir(join(root, 'policy'));
  for (const [name, text] of Object.entries(policies)) await writeFile(join(root, 'policy', name), text);
  return root;
}

describeWithTools(['opa'], 'OPA capabilities and the policy source', () => {
  let server: Server;
  let hits = 0;
  let url = '';
  beforeAll(async () => {
    server = createServer((_req, res) => {
      hits += 1;
      res.end('{"ok": true}');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const a = server.address();
    url = `http://127.0.0.1:${typeof a === 'object' && a ? a.port : 0}/`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('the capabilities file drops http.send, net.lookup_ip_addr and opa.runtime and forbids remote fetches', async () => {
    const caps = JSON.parse(await restrictedCapabilities(requireTool('opa'))) as {
      builtins: { name: string }[];
      allow_net: string[];
    };
    const names = caps.builtins.map((b) => b.name);
    for (const gone of ['http.send', 'net.lookup_ip_addr', 'opa.runtime']) expect(names).not.toContain(gone);
    expect(names).toContain('net.cidr_contains'); // pure functions stay
    expect(caps.allow_net).toEqual([]);
  });

  for (const [builtin, call] of [
    ['http.send', `http.send({"method": "GET", "url": "URL"})`],
    ['net.lookup_ip_addr', `net.lookup_ip_addr("localhost")`],
    ['opa.runtime', `opa.runtime()`],
  ] as const) {
    it(`a custom policy calling ${builtin} fails closed with a message naming it, and makes no request`, async () => {
      const root = await repoWith({
        'x.rego': `package infra_agent.custom.x\n\ndeny contains f if {\n\tr := ${call.replace('URL', url)}\n\tf := {"rule_id": "X-1", "message": sprintf("%v", [r])}\n}\n`,
      });
      const run = await opaScanner.run({ dir: root, repoRoot: root, config });
      expect(run.status).toBe('failed');
      expect(run.reason).toContain(`policy/x.rego:4`);
      expect(run.reason).toContain(`undefined function ${builtin}`);
      expect(run.reason).toContain(`${builtin} is not available to policies`);
      expect(hits).toBe(0);
    });
  }

  it('with the default branch folder given, the checkout folder is never read', async () => {
    const checkout = await repoWith({ 'x.rego': 'package infra_agent.custom.x\n\ndeny := set()\n' });
    const trusted = await mkdtemp(join(tmpdir(), 'opa-default-branch-'));
    dirs.push(trusted);
    await writeFile(
      join(trusted, 'x.rego'),
      'package infra_agent.custom.x\n\ndeny contains f if {\n\tsome rc in input.resource_changes\n\tf := {"rule_id": "CUSTOM-1", "message": "from the default branch", "address": rc.address}\n}\n',
    );
    const run = await opaScanner.run({ dir: checkout, repoRoot: checkout, config, customPolicies: { dir: trusted } });
    expect(run.status, run.reason).toBe('ok');
    expect(run.findings.map((f) => f.ruleId)).toContain('CUSTOM-1');
    const missing = await opaScanner.run({
      dir: checkout,
      repoRoot: checkout,
      config,
      customPolicies: { error: 'policy.custom_policy_dir "policy" holds no .rego file on the default branch' },
    });
    expect(missing.status).toBe('failed');
    expect(missing.reason).toContain('on the default branch');
  });
});

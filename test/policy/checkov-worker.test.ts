// The warm checkov worker (issue #17 item 4): same findings as the one-shot checkov, and the sandbox's guarantees
// hold for a process that lives across scans — no network, no view of the host's checkouts or the App's data, and
// nothing of one scan left for the next. The probes are checkov custom checks (`--external-checks-dir`): Python that
// checkov imports inside the worker, i.e. code running exactly where a parser exploit would.

import { mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { PolicyConfigSchema } from '../../src/config/schema.js';
import { checkovScanner } from '../../src/policy/scanners/checkov.js';
import {
  checkovPool,
  stopCheckovWorkers,
  WORKER_SCAN_ROOT,
  workerScans,
} from '../../src/policy/scanners/checkov-worker.js';
import { SANDBOX_HOME } from '../../src/sandbox/bwrap.js';
import { protectPath } from '../../src/sandbox/policy.js';
import { findTool, projectRoot, toolsDir } from '../../src/toolchain/tools.js';
import { describeWithTools } from '../helpers/tools.js';

const SECRET = 'other-run-secret-4711';
const VULNERABLE = resolve(import.meta.dirname, '../fixtures/policy/vulnerable');
const config = PolicyConfigSchema.parse({});

describeWithTools(['checkov'], 'the warm checkov worker', () => {
  let base: string;
  let otherRun: string;
  let dataDir: string;
  let server: Server;
  let port = 0;

  beforeAll(async () => {
    base = mkdtempSync(join(tmpdir(), 'checkov-worker-test-'));
    otherRun = join(base, 'run-b', 'repo');
    dataDir = join(base, 'app-data');
    for (const d of [otherRun, dataDir]) mkdirSync(d, { recursive: true });
    writeFileSync(join(otherRun, 'terraform.tfstate'), SECRET);
    writeFileSync(join(dataDir, 'store.db'), SECRET);
    protectPath(dataDir);
    server = createServer((s) => s.end('HELLO'));
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', () => ok()));
    const addr = server.address();
    port = typeof addr === 'object' && addr ? addr.port : 0;
  });
  afterAll(async () => {
    stopCheckovWorkers();
    await new Promise<void>((ok) => server.close(() => ok()));
    rmSync(base, { recursive: true, force: true });
  });

  it('finds what the one-shot checkov finds, through the worker', async () => {
    const input = { dir: VULNERABLE, repoRoot: VULNERABLE, config };
    const before = workerScans();
    const warm = await checkovScanner.run(input);
    expect(workerScans()).toBe(before + 1);
    vi.stubEnv('INFRA_AGENT_CHECKOV_WORKERS', '0');
    try {
      const cold = await checkovScanner.run(input);
      expect(workerScans()).toBe(before + 1);
      expect(cold.status).toBe('ok');
      expect(warm.status).toBe('ok');
      const key = (f: { ruleId: string; file?: string; line?: number; address?: string }) =>
        `${f.ruleId} ${f.file}:${f.line} ${f.address}`;
      expect(warm.findings.map(key).sort()).toEqual(cold.findings.map(key).sort());
      expect(warm.findings.length).toBeGreaterThan(5);
      expect(warm.findings.every((f) => !f.file?.startsWith('/'))).toBe(true);
      expect(warm.version).toBe(cold.version);
    } finally {
      vi.unstubAllEnvs();
    }
  });

  const probe = (code: string) => `
import json, os, socket, sys
out = {}
def attempt(name, fn):
    try:
        out[name] = fn()
    except BaseException as e:
        out[name] = 'ERR ' + type(e).__name__
${code}
sys.__stderr__.write('PROBE ' + json.dumps(out) + '\\n')
sys.__stderr__.flush()
`;

  const runProbe = async (code: string, extra: { path: string; data: Buffer }[] = []) => {
    const tool = findTool('checkov');
    if (!tool) throw new Error('no checkov');
    const python = /^#!\s*(\S+)/.exec(readFileSync(realpathSync(tool), 'latin1').slice(0, 256))?.[1];
    if (!python) throw new Error('no python');
    const pool = checkovPool(python, tool, { HOME: SANDBOX_HOME });
    const answer = await pool.scan(
      [
        { path: 'repo/main.tf', data: Buffer.from('resource "terraform_data" "x" {}\n') },
        { path: 'probe/__init__.py', data: Buffer.from('') },
        { path: 'probe/probe.py', data: Buffer.from(probe(code)) },
        ...extra,
      ],
      [
        '-d',
        `${WORKER_SCAN_ROOT}/repo`,
        '--framework',
        'terraform',
        '--external-checks-dir',
        `${WORKER_SCAN_ROOT}/probe`,
        '-o',
        'json',
        '--output-file-path',
        `${WORKER_SCAN_ROOT}/out`,
        '--soft-fail',
      ],
      'out/results_json.json',
    );
    const line = /PROBE (\{.*\})/.exec(answer.log)?.[1];
    if (!line) throw new Error(`the probe did not run: ${answer.log}`);
    return JSON.parse(line) as Record<string, unknown>;
  };

  it('has no network, not even 127.0.0.1', async () => {
    const seen = await runProbe(`
attempt('loopback', lambda: socket.create_connection(('127.0.0.1', ${port}), timeout=2).recv(5).decode())
attempt('outside', lambda: socket.create_connection(('1.1.1.1', 443), timeout=2) and 'CONNECTED')
attempt('dns', lambda: socket.getaddrinfo('registry.terraform.io', 443) and 'RESOLVED')
`);
    expect(seen['loopback']).toMatch(/^ERR /);
    expect(seen['outside']).toMatch(/^ERR /);
    expect(seen['dns']).toMatch(/^ERR /);
  });

  it("sees neither other runs' checkouts nor the App's data, only its own request", async () => {
    const seen = await runProbe(`
attempt('other', lambda: open(${JSON.stringify(join(otherRun, 'terraform.tfstate'))}).read())
attempt('data', lambda: open(${JSON.stringify(join(dataDir, 'store.db'))}).read())
attempt('base', lambda: os.listdir(${JSON.stringify(base)}))
attempt('scan', lambda: sorted(os.listdir('${WORKER_SCAN_ROOT}')))
attempt('cwd', lambda: os.getcwd())
`);
    expect(seen['other']).toMatch(/^ERR /);
    expect(seen['data']).toMatch(/^ERR /);
    expect(seen['base']).toMatch(/^ERR /);
    expect(seen['scan']).toEqual(['probe', 'repo']);
  });

  it('leaves nothing of one scan for the next (files in /tmp and HOME, Python state)', async () => {
    await runProbe(`
attempt('plant', lambda: [open('/tmp/planted', 'w').write('x'), open(os.path.expanduser('~/planted'), 'w').write('x'), setattr(json, 'PLANTED', 1)] and 'ok')
`);
    const seen = await runProbe(`
attempt('tmp', lambda: sorted(os.listdir('/tmp')))
attempt('home', lambda: os.listdir(os.path.expanduser('~')))
attempt('state', lambda: hasattr(json, 'PLANTED'))
`);
    // the worker's own script dir (read-only) is the one thing in /tmp besides this scan — and, when the project
    // itself lives under /tmp (a CI clone may), the empty parents of the toolchain's read-only bind (wipe() removes
    // whatever a scan writes into them; the mount points themselves cannot go)
    const bindParents = [realpathSync(toolsDir()), realpathSync(projectRoot())]
      .filter((p) => p.startsWith('/tmp/'))
      .map((p) => p.split('/')[2]);
    const tmp = (seen['tmp'] as string[]).filter(
      (n) => !n.startsWith('infra-agent-checkov-worker-') && !bindParents.includes(n),
    );
    expect(tmp).toEqual(['scan', 'scan.log']);
    expect(seen['home']).toEqual([]);
    expect(seen['state']).toBe(false);
  });

  it('refuses a request whose paths leave its scan dir', async () => {
    await expect(runProbe('pass', [{ path: '../../etc/evil', data: Buffer.from('x') }])).rejects.toThrow(
      /bad path in request/,
    );
  });
});

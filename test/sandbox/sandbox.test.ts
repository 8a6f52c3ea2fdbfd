// The sandbox's own walls, with the real bubblewrap: what a process inside can and cannot reach. Each test runs the
// same probe a hostile repository would (a shell, node) under the policy the App gives that kind of tool.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { type AddressInfo, createServer as createTcpServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { bwrapPath } from '../../src/sandbox/bwrap.js';
import { ExecError, run } from '../../src/sandbox/exec.js';
import { protectPath, scannerPolicy, terraformPolicy } from '../../src/sandbox/policy.js';
import { hostAllowed } from '../../src/sandbox/proxy.js';

const SH = '/bin/sh';
const NODE = process.execPath;

function sandboxSuite(title: string, body: () => void): void {
  if (bwrapPath()) {
    describe(title, body);
    return;
  }
  // No bubblewrap: in CI that is a failure (nothing may be skipped), elsewhere a loud skip.
  if (process.env['CI']) {
    describe(title, () => {
      it('has bubblewrap', () => {
        throw new Error('bubblewrap is not installed: run `npm run bootstrap` as root');
      });
    });
    return;
  }
  console.warn(`\n*** SKIPPED "${title}": bubblewrap is not installed ***\n`);
  describe.skip(title, body);
}

sandboxSuite('the sandbox (real bubblewrap)', () => {
  let base: string;
  let checkout: string;
  let otherRun: string;
  let dataDir: string;
  let keyFile: string;
  let tfData: string;
  const SECRET = 'app-secret-value-4711-never-inside';
  const saved = { ...process.env };

  beforeAll(() => {
    base = mkdtempSync(join(tmpdir(), 'sandbox-test-'));
    checkout = join(base, 'run-a', 'repo');
    otherRun = join(base, 'run-b', 'repo');
    dataDir = join(base, 'app-data');
    tfData = join(base, 'run-a', 'tfdata');
    for (const d of [checkout, otherRun, dataDir, tfData]) mkdirSync(d, { recursive: true });
    writeFileSync(join(checkout, 'main.tf'), '# mine\n');
    writeFileSync(join(otherRun, 'terraform.tfstate'), `{"secret":"${SECRET}"}`);
    writeFileSync(join(dataDir, 'store.db'), SECRET);
    keyFile = join(base, 'app.pem');
    writeFileSync(keyFile, `-----BEGIN PRIVATE KEY-----\n${SECRET}\n-----END PRIVATE KEY-----\n`);
    protectPath(dataDir);
    protectPath(keyFile);
  });
  afterAll(() => rmSync(base, { recursive: true, force: true }));
  afterEach(() => {
    process.env = { ...saved };
  });

  const tfPolicy = () => terraformPolicy({ tool: SH, checkout, dataDir: tfData });
  const scanPolicy = () => scannerPolicy({ tool: SH, read: [checkout], scratch: tfData });

  it('has its own /proc: the App and its environment are not there', async () => {
    process.env['WEBHOOK_SECRET'] = SECRET;
    const r = await run(
      SH,
      [
        '-c',
        // The attack: the parent pid from /proc/self/stat, then its environ; and the App's own pid directly.
        `ppid=$(cut -d' ' -f4 /proc/self/stat); echo "ppid=$ppid"; cat /proc/$ppid/environ | tr '\\0' '\\n'; ` +
          `cat /proc/1/environ | tr '\\0' '\\n'; ls /proc/${process.pid} 2>&1; ls /proc | grep -E '^[0-9]+$' | tr '\\n' ' '`,
      ],
      { sandbox: tfPolicy(), okExitCodes: [1, 2] },
    );
    expect(r.sandboxed).toBe(true);
    expect(r.stdout).not.toContain(SECRET);
    expect(r.stdout).toContain(`ls: cannot access '/proc/${process.pid}'`.replace(/'/g, "'"));
    // Only the sandbox's own processes exist: bwrap's init, the shell, its pipeline.
    const pids = (/\n([0-9 ]+)$/.exec(r.stdout.trimEnd())?.[1] ?? '').trim().split(/\s+/).map(Number);
    expect(Math.max(...pids)).toBeLessThan(20);
    // Its parent is a process of the sandbox, never the App.
    expect(Number(/^ppid=(\d+)$/m.exec(r.stdout)?.[1])).toBeLessThan(20);
  });

  it("cannot read the App's data dir, its key file, or another run's workspace", async () => {
    for (const path of [join(dataDir, 'store.db'), keyFile, join(otherRun, 'terraform.tfstate')]) {
      for (const policy of [tfPolicy(), scanPolicy()]) {
        const r = await run(SH, ['-c', `cat '${path}' 2>&1`], { sandbox: policy, okExitCodes: [1, 2] });
        expect(r.stdout).toContain('No such file or directory');
        expect(r.stdout).not.toContain(SECRET);
        // The runs' parent dir holds only what the policy bound: this run, nothing of the App or other runs.
        const listing = await run(SH, ['-c', `ls -a '${base}'`], { sandbox: policy });
        expect(listing.stdout.split('\n').filter((l) => l && l !== '.' && l !== '..')).toEqual(['run-a']);
      }
    }
    // What it can see of the run: its own checkout.
    const mine = await run(SH, ['-c', `cat '${join(checkout, 'main.tf')}'`], { sandbox: tfPolicy() });
    expect(mine.stdout).toBe('# mine\n');
  });

  it('refuses a policy that would expose a protected path, instead of exposing it', async () => {
    const err = await run(SH, ['-c', 'true'], {
      sandbox: scannerPolicy({ tool: SH, read: [base], scratch: tfData }),
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ExecError);
    expect((err as ExecError).reason).toBe('sandbox');
    expect((err as ExecError).message).toMatch(/the sandbox could not start: refusing to expose/);
  });

  it('writes only to its checkout and data dir; the rest is read-only or private', async () => {
    const outside = join(base, 'outside.txt');
    writeFileSync(outside, 'original');
    const r = await run(
      SH,
      [
        '-c',
        `echo pwned > '${outside}' 2>&1; echo "w1=$?"; echo x > /usr/pwned 2>&1; echo "w2=$?"; ` +
          `echo x > '${join(checkout, '.git-not', 'x')}' 2>/dev/null; echo ok > '${join(checkout, 'written.txt')}'; echo "w3=$?"; ` +
          `echo tmp > /tmp/leak.txt; echo "w4=$?"`,
      ],
      { sandbox: tfPolicy() },
    );
    // Outside paths are either read-only (w2) or private to the sandbox (w1 lands on its tmpfs): the host file stays.
    expect(r.stdout).toMatch(/w2=[12]/);
    expect(r.stdout).toContain('w3=0');
    expect(r.stdout).toContain('w4=0');
    expect(readFileSync(outside, 'utf8')).toBe('original');
    expect(readFileSync(join(checkout, 'written.txt'), 'utf8')).toBe('ok\n');
    // /tmp inside is a private tmpfs: nothing lands in the host's /tmp.
    expect(() => readFileSync('/tmp/leak.txt')).toThrow();
  });

  it('starts where the caller asks (a project dir inside the checkout), not at the checkout root', async () => {
    const project = join(checkout, 'envs', 'prod');
    mkdirSync(project, { recursive: true });
    const r = await run(SH, ['-c', 'pwd'], { cwd: project, sandbox: tfPolicy() });
    expect(r.stdout.trim()).toBe(project);
  });

  it("keeps the checkout's .git read-only (the App's git trusts its config and hooks)", async () => {
    mkdirSync(join(checkout, '.git', 'hooks'), { recursive: true });
    const r = await run(SH, ['-c', `echo evil > '${join(checkout, '.git', 'hooks', 'post-checkout')}'; echo "rc=$?"`], {
      sandbox: tfPolicy(),
    });
    expect(r.stdout).toMatch(/rc=[12]/);
    rmSync(join(checkout, '.git'), { recursive: true, force: true });
  });

  describe('network', () => {
    let tcp: ReturnType<typeof createTcpServer>;
    let tcpPort: number;
    let connections = 0;
    let http: Server;
    let httpPort: number;
    const requests: string[] = [];
    beforeAll(async () => {
      tcp = createTcpServer((s) => {
        connections++;
        s.end('hello\n');
      });
      await new Promise<void>((ok) => tcp.listen(0, '127.0.0.1', () => ok()));
      tcpPort = (tcp.address() as AddressInfo).port;
      http = createServer((req, res) => {
        requests.push(`${req.method} ${req.url}`);
        res.end('allowed-host-answer');
      });
      await new Promise<void>((ok) => http.listen(0, '127.0.0.1', () => ok()));
      httpPort = (http.address() as AddressInfo).port;
    });
    afterAll(async () => {
      await new Promise<void>((ok) => tcp.close(() => ok()));
      await new Promise<void>((ok) => http.close(() => ok()));
    });

    const connectScript = (port: number) =>
      `const s=require('net').connect(${port},'127.0.0.1');s.on('connect',()=>{console.log('CONNECTED');process.exit(0)});s.on('error',e=>{console.log('ERR '+e.code);process.exit(3)})`;

    it('a scanner cannot open a socket, not even to 127.0.0.1', async () => {
      const r = await run(NODE, ['-e', connectScript(tcpPort)], {
        sandbox: scannerPolicy({ tool: NODE, read: [checkout], scratch: tfData }),
        okExitCodes: [3],
      });
      expect(r.stdout).toContain('ERR ECONNREFUSED');
      expect(connections).toBe(0);
      // Nor any interface but its own loopback.
      const ifaces = await run(SH, ['-c', 'cat /proc/net/dev'], { sandbox: scanPolicy() });
      expect(ifaces.stdout).not.toMatch(/eth|ens|wl|docker|veth/);
    });

    it('terraform reaches allowed hosts through the proxy, and nothing else', async () => {
      const fetchVia = (url: string) =>
        `const u=new URL(process.env.HTTP_PROXY);const r=require('http').request({host:u.hostname,port:u.port,path:${JSON.stringify(url)},headers:{host:'x'}},res=>{let b='';res.on('data',c=>b+=c);res.on('end',()=>{console.log(res.statusCode+' '+b.trim());process.exit(0)})});r.on('error',e=>{console.log('ERR '+e.code);process.exit(0)});r.end()`;
      const policy = terraformPolicy({
        tool: NODE,
        checkout,
        dataDir: tfData,
        allowedHosts: [`127.0.0.1:${httpPort}`],
      });
      const ok = await run(NODE, ['-e', fetchVia(`http://127.0.0.1:${httpPort}/v1/providers`)], { sandbox: policy });
      expect(ok.stdout).toContain('200 allowed-host-answer');
      expect(requests).toContain('GET /v1/providers');
      const denied = await run(NODE, ['-e', fetchVia(`http://127.0.0.1:${tcpPort}/`)], { sandbox: policy });
      expect(denied.stdout).toMatch(/^403 /);
      const elsewhere = await run(NODE, ['-e', fetchVia('http://metadata.google.internal/')], { sandbox: policy });
      expect(elsewhere.stdout).toMatch(/^403 /);
      // Direct connections (ignoring the proxy) go nowhere: the namespace has only its loopback.
      const direct = await run(NODE, ['-e', connectScript(httpPort)], { sandbox: policy, okExitCodes: [3] });
      expect(direct.stdout).toContain('ERR ECONNREFUSED');
      expect(connections).toBe(0);
    });

    it('matches hosts exactly, by suffix for *.domain, on 443/80 unless a port is given', () => {
      const allow = ['registry.terraform.io', '*.amazonaws.com', '127.0.0.1:8080'];
      expect(hostAllowed(allow, 'registry.terraform.io', 443)).toBe(true);
      expect(hostAllowed(allow, 'registry.terraform.io', 22)).toBe(false);
      expect(hostAllowed(allow, 'evil-registry.terraform.io', 443)).toBe(false);
      expect(hostAllowed(allow, 's3.eu-west-1.amazonaws.com', 443)).toBe(true);
      expect(hostAllowed(allow, 'amazonaws.com.evil.net', 443)).toBe(false);
      expect(hostAllowed(allow, '127.0.0.1', 8080)).toBe(true);
      expect(hostAllowed(allow, '127.0.0.1', 443)).toBe(false);
    });
  });

  describe('without bubblewrap', () => {
    it('refuses to run a sandboxed tool and says why', async () => {
      process.env['INFRA_AGENT_BWRAP_BIN'] = join(base, 'no-such-bwrap');
      const err = await run(SH, ['-c', 'echo ran'], { sandbox: scanPolicy() }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ExecError);
      expect((err as ExecError).reason).toBe('sandbox');
      expect((err as ExecError).message).toMatch(/^the sandbox could not start: bubblewrap was not found/);
      expect((err as ExecError).message).toContain('INFRA_AGENT_UNSANDBOXED=1');
    });

    it("runs unsandboxed only on the operator's explicit switch, and says so", async () => {
      process.env['INFRA_AGENT_BWRAP_BIN'] = join(base, 'no-such-bwrap');
      process.env['INFRA_AGENT_UNSANDBOXED'] = 'yes please';
      await expect(run(SH, ['-c', 'echo ran'], { sandbox: scanPolicy() })).rejects.toThrow(/could not start/);
      process.env['INFRA_AGENT_UNSANDBOXED'] = '1';
      const r = await run(SH, ['-c', 'echo ran'], { sandbox: scanPolicy() });
      expect(r.stdout).toBe('ran\n');
      expect(r.sandboxed).toBe(false);
    });
  });
});

import { readFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildChildEnv, ExecError, run, stripAnsi } from '../../src/sandbox/exec.js';

/** Running (not gone, not a zombie waiting for a reaper: PID 1 in a container may never reap orphans). */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^\d+ \(.*\) [ZX] /.test(stat);
  } catch {
    return false;
  }
}

describe('run', () => {
  const saved = { ...process.env };
  beforeEach(() => {
    process.env['ANTHROPIC_API_KEY'] = 'sk-ant-test-key-that-must-not-leak';
    process.env['PRIVATE_KEY'] = '-----BEGIN RSA PRIVATE KEY-----\nabc\n-----END RSA PRIVATE KEY-----';
    process.env['WEBHOOK_SECRET'] = 'hook-secret';
    process.env['DATABASE_URL'] = 'postgres://u:p@localhost/db';
    process.env['SOME_RANDOM_VAR'] = 'not-allowlisted';
  });
  afterEach(() => {
    process.env = { ...saved };
  });

  it('passes argv without a shell: metacharacters stay literal', async () => {
    const r = await run('printf', ['%s', '$(echo pwned); rm -rf / && `id`']);
    expect(r.stdout).toBe('$(echo pwned); rm -rf / && `id`');
  });

  it('keeps the app secrets and non-allowlisted variables out of the child', async () => {
    const r = await run('env', []);
    const names = r.stdout.split('\n').map((l) => l.split('=')[0]);
    expect(names).not.toContain('ANTHROPIC_API_KEY');
    expect(names).not.toContain('PRIVATE_KEY');
    expect(names).not.toContain('WEBHOOK_SECRET');
    expect(names).not.toContain('DATABASE_URL');
    expect(names).not.toContain('SOME_RANDOM_VAR');
    expect(names).toContain('PATH');
    expect(r.stdout).not.toContain('sk-ant-test-key');
  });

  it('refuses to pass an app secret even when a caller asks', () => {
    expect(() => buildChildEnv({ ANTHROPIC_API_KEY: 'x' })).toThrow(/refusing to pass ANTHROPIC_API_KEY/);
    expect(() => buildChildEnv({ PRIVATE_KEY: 'x' })).toThrow(/PRIVATE_KEY/);
    expect(buildChildEnv({ TF_IN_AUTOMATION: '1' })['TF_IN_AUTOMATION']).toBe('1');
  });

  it('kills the whole process tree on timeout', async () => {
    // The shell starts a grandchild that would outlive a plain kill of the child, and prints its pid first.
    const script = 'sleep 300 & echo $!; wait';
    let err: unknown;
    const started = Date.now();
    try {
      await run('sh', ['-c', script], { timeoutMs: 500 });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ExecError);
    const e = err as ExecError;
    expect(e.reason).toBe('timeout');
    expect(Date.now() - started).toBeLessThan(10_000);
    const grandchild = Number(e.stdout.trim().split('\n')[0]);
    expect(grandchild).toBeGreaterThan(0);
    await new Promise((r) => setTimeout(r, 300));
    expect(alive(grandchild)).toBe(false);
  });

  it('kills the process tree when aborted', async () => {
    const ac = new AbortController();
    const p = run('sh', ['-c', 'sleep 300 & echo $!; wait'], { signal: ac.signal });
    setTimeout(() => ac.abort(), 300);
    const e = await p.catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ExecError);
    expect((e as ExecError).reason).toBe('aborted');
    const grandchild = Number((e as ExecError).stdout.trim());
    await new Promise((r) => setTimeout(r, 300));
    expect(alive(grandchild)).toBe(false);
  });

  it('caps output and says how much was cut', async () => {
    const r = await run('head', ['-c', '100000', '/dev/zero'], { outputCap: 1000 });
    expect(r.truncated).toBe(true);
    expect(r.stdout.length).toBeLessThan(1200);
    expect(r.stdout).toContain('99000 more bytes of output cut');
  });

  it('carries command, exit code and stderr tail on failure', async () => {
    const e = await run('sh', ['-c', 'echo first >&2; echo boom >&2; exit 3']).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ExecError);
    const err = e as ExecError;
    expect(err.reason).toBe('exit');
    expect(err.exitCode).toBe(3);
    expect(err.command).toBe('sh');
    expect(err.tail(1)).toBe('boom');
    expect(err.message).toContain('exited with 3: boom');
  });

  it('accepts declared exit codes', async () => {
    const r = await run('sh', ['-c', 'exit 2'], { okExitCodes: [2] });
    expect(r.exitCode).toBe(2);
  });

  it('names a missing binary', async () => {
    const e = await run('definitely-not-a-tool-xyz', []).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ExecError);
    expect((e as ExecError).reason).toBe('not-found');
    expect((e as ExecError).message).toMatch(/not found/);
  });

  it('strips ANSI escapes', async () => {
    const r = await run('printf', ['\u001b[31mred\u001b[0m plain']);
    expect(r.stdout).toBe('red plain');
    expect(stripAnsi('\u001b[1;32mok\u001b[0m')).toBe('ok');
  });
});

// What the scanner modules share: the not-run/failed results, tool versions (cached per binary), private temp
// dirs, and an environment for scanners that reaches nothing outside this machine.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ScannerName, ScannerRun } from '../../core/types.js';
import { ExecError, run } from '../../sandbox/exec.js';
import { findTool, MissingToolError, type ToolName } from '../../toolchain/tools.js';
import { redact } from '../../util/redact.js';

export function notRun(name: ScannerName, reason: string, started: number): ScannerRun {
  return { name, status: 'not-run', durationMs: Date.now() - started, reason, findings: [] };
}

export function failed(name: ScannerName, reason: string, started: number, version?: string): ScannerRun {
  const r: ScannerRun = {
    name,
    status: 'failed',
    durationMs: Date.now() - started,
    reason: redact(reason),
    findings: [],
  };
  if (version) r.version = version;
  return r;
}

/** The tool's path, or the not-run reason naming the setup command. */
export function locateTool(tool: ToolName): { path: string } | { reason: string } {
  const path = findTool(tool);
  return path ? { path } : { reason: new MissingToolError(tool).message };
}

/** Why a process failed, for a `failed` result: the error and the tail of stderr. */
export function describeExecError(err: unknown): string {
  if (err instanceof ExecError) {
    // Go tools (tfsec, Trivy) print their own error on stdout ("Error: scan failed: main.tf:5,1-6: …").
    const said = err.stdout
      .split('\n')
      .filter((l) => /^\s*(error|fatal|FATAL|ERROR)\b/i.test(l))
      .slice(0, 5)
      .join('\n');
    const tail = err.tail(15);
    // The tool's own words first: the verdict and the report quote the first line.
    const parts = [said, err.message, tail && !err.message.includes(tail) && !said.includes(tail) ? tail : ''];
    return parts.filter(Boolean).join('\n');
  }
  return err instanceof Error ? err.message : String(err);
}

const versions = new Map<string, Promise<string | undefined>>();

async function cachedVersion(key: string, probe: () => Promise<string | undefined>): Promise<string | undefined> {
  let v = versions.get(key);
  if (!v) {
    v = probe().catch(() => undefined);
    versions.set(key, v);
  }
  return v;
}

const SEMVER = /v?(\d+\.\d+\.\d+(?:[-+][0-9A-Za-z.-]+)?)/;

/** `<tool> <args>` → the first x.y.z it prints. Cached per binary path and mtime. */
export async function probeVersion(path: string, args: string[], signal?: AbortSignal): Promise<string | undefined> {
  const mtime = (await stat(path)).mtimeMs;
  return cachedVersion(`${path}@${mtime}`, async () => {
    const r = await run(path, args, { timeoutMs: 30_000, ...(signal ? { signal } : {}), env: { HOME: tmpdir() } });
    const m = SEMVER.exec(`${r.stdout}\n${r.stderr}`);
    if (m?.[1]) return m[1];
    // Binaries built with `go install` say "locally built" and carry the module version in their build info.
    return goModuleVersion(path);
  });
}

/** The main module version from a Go binary's embedded build info ("mod\t<path>\tv1.2.3"). */
export async function goModuleVersion(path: string): Promise<string | undefined> {
  const re = /(?:^|\n)mod\t[^\t\n]+\t(v\d+\.\d+\.\d+[^\t\n]*)/;
  return new Promise((resolveVersion) => {
    let carry = '';
    let found: string | undefined;
    const stream = createReadStream(path, { highWaterMark: 1 << 20 });
    stream.on('data', (chunk) => {
      const text = carry + (typeof chunk === 'string' ? chunk : chunk.toString('latin1'));
      const m = re.exec(text);
      if (m?.[1]) {
        found = m[1].replace(/^v/, '');
        stream.destroy();
        resolveVersion(found);
        return;
      }
      carry = text.slice(-256);
    });
    stream.on('close', () => resolveVersion(found));
    stream.on('error', () => resolveVersion(undefined));
  });
}

/** A private temp dir (mode 0700 by mkdtemp) removed by the returned function. */
export async function privateTempDir(prefix: string): Promise<{ dir: string; remove: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), `infra-agent-${prefix}-`));
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

export async function writePrivate(path: string, content: string): Promise<void> {
  await writeFile(path, content, { mode: 0o600 });
}

/**
 * Environment for scanners: a throwaway HOME (no user config read, no cache written into ours) and proxies that
 * point nowhere, so a scanner that tries to phone home fails fast instead of leaking code or plan data.
 */
export function offlineEnv(home: string): Record<string, string> {
  const nowhere = 'http://127.0.0.1:9';
  return {
    HOME: home,
    HTTP_PROXY: nowhere,
    HTTPS_PROXY: nowhere,
    http_proxy: nowhere,
    https_proxy: nowhere,
    NO_PROXY: '',
    no_proxy: '',
  };
}

export interface ScannerContext {
  /** The tool's path. */
  tool: string;
  /** A private temp dir (the scanner's scratch, writable in its sandbox), removed afterwards. */
  tmp: string;
}

/**
 * The frame a binary scanner shares: the tool or `not-run` naming the setup command, its version, a private temp dir,
 * and anything thrown turned into `failed` with the tool's own words. `body` returns the findings (and notes).
 */
export async function runBinaryScanner(
  name: ScannerName,
  toolName: ToolName,
  versionArgs: string[],
  signal: AbortSignal | undefined,
  body: (ctx: ScannerContext) => Promise<Pick<ScannerRun, 'findings' | 'notes'>>,
): Promise<ScannerRun> {
  const started = Date.now();
  const tool = locateTool(toolName);
  if ('reason' in tool) return notRun(name, tool.reason, started);
  const version = await probeVersion(tool.path, versionArgs, signal);
  const tmp = await privateTempDir(name);
  try {
    const { findings, notes } = await body({ tool: tool.path, tmp: tmp.dir });
    return {
      name,
      status: 'ok',
      ...(version ? { version } : {}),
      durationMs: Date.now() - started,
      ...(notes && notes.length > 0 ? { notes } : {}),
      findings,
    };
  } catch (err) {
    return failed(name, describeExecError(err), started, version);
  } finally {
    await tmp.remove();
  }
}

export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

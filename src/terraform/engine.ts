// The Terraform CLI, driven for automation. Every call goes through sandbox/exec (argv only, timeout, abort, output
// cap, env allowlist) with Terraform's automation settings and the offline CLI config; failures become a
// TerraformError whose message is the diagnostics (`file:line: summary — detail`), never a stack trace. Works with
// OpenTofu's `tofu` too: only flags both CLIs share are used.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { z } from 'zod';
import type { RepoConfig } from '../config/schema.js';
import type { Diagnostic } from '../core/types.js';
import { ExecError, type ExecResult, run } from '../sandbox/exec.js';
import { DEFAULT_ALLOWED_HOSTS, terraformPolicy } from '../sandbox/policy.js';
import { requireTool, terraformCliConfig } from '../toolchain/tools.js';
import { redact, registerSecret } from '../util/redact.js';
import { checkoutIdentity, DataDirs, realOrResolved } from './data-dirs.js';
import {
  JsonDiagnosticSchema,
  parseHumanDiagnostics,
  parseJsonStreamDiagnostics,
  toDiagnostic,
} from './diagnostics.js';
import { dedupe, safeJson, TerraformError, wholeJson } from './error.js';
import { forgetInit, initDigest, initIsCurrent, recordInit } from './init-stamp.js';
import { cacheHolds, fillFromLockFile, lockedProviders, sharedProviderCache } from './provider-cache.js';
import { readCachedSchema, schemaCacheFile, writeCachedSchema } from './schema-cache.js';

export { TerraformError } from './error.js';

export interface TerraformOptions {
  /** The binary: a path, or a name on PATH (`terraform`, `tofu`). Default: the project's pinned terraform. */
  bin?: string;
  /** Extra environment for every call (provider credentials, TF_LOG…); the app's own secrets are refused by exec. */
  env?: Record<string, string>;
  /** Default timeout per call (plan/apply/init); short calls use their own shorter limit. */
  timeoutMs?: number;
  /**
   * The run's checkout: the only writable place in the sandbox besides the TF data dir (its `.git` read-only).
   * Default: the nearest ancestor of the project dir holding `.git`, else the project dir.
   */
  checkout?: string;
  /** Hosts init/plan/apply may reach through the sandbox's proxy (default DEFAULT_ALLOWED_HOSTS). */
  allowedHosts?: string[];
  /**
   * 'shared' (default): inits use the App's read-only provider cache when it holds every provider the lock file pins,
   * and fill it for the next run otherwise (provider-cache.ts). 'private': this instance's own cache only.
   */
  providerCache?: 'shared' | 'private';
  /** The repository's identity (data-dirs.ts checkoutIdentity): each project's data dir is then reused across runs. */
  reuse?: string;
}

export interface CallOptions {
  signal?: AbortSignal;
}

/**
 * What a call may reach: `online` calls (init, workspace, plan, apply, state) get the allow-listed network and the
 * provider credentials; the rest (fmt, validate, show of a saved plan, providers schema) get neither.
 */
type Reach = 'online' | 'offline';

export interface InitOptions extends CallOptions {
  /** false → `-backend=false` (validate-only inits, untrusted code). Default true. */
  backend?: boolean;
  backendConfig?: Record<string, string>;
  upgrade?: boolean;
}

export interface PlanOptions extends CallOptions {
  /** Where the binary plan is written (absolute, or relative to dir). */
  out: string;
  /** Root-module variables, passed as TF_VAR_* so their values never appear in argv or error messages. */
  vars?: Record<string, string>;
  destroy?: boolean;
  refresh?: boolean;
  /** `-refresh-only`: what changed outside Terraform, proposing only to record it in state (drift checks). */
  refreshOnly?: boolean;
  /** false → `-lock=false`: a read-only plan (a drift check) must not block an apply holding the state lock. */
  lock?: boolean;
}

const DEFAULT_TIMEOUT_MS = 30 * 60_000;
const SHORT_TIMEOUT_MS = 60_000;
/** Machine-readable output we must parse whole: a cut JSON document is useless, so allow far more than text. */
const JSON_OUTPUT_CAP = 256 * 1024 * 1024;
/** Human-readable plan/apply text: beyond this it is cut, and the runner appends how much was dropped. */
const TEXT_OUTPUT_CAP = 2 * 1024 * 1024;
const STDERR_TAIL_LINES = 30;

const VersionSchema = z.looseObject({ terraform_version: z.string() });

const ValidateSchema = z.looseObject({
  valid: z.boolean(),
  diagnostics: z.array(JsonDiagnosticSchema).default([]),
});

/** Argument names we interpolate into argv: keep them to what Terraform accepts, so nothing becomes a flag. */
const SAFE_NAME = /^[A-Za-z_][A-Za-z0-9_-]*$/;
const SAFE_WORKSPACE = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,89}$/;

export class Terraform {
  readonly bin: string;
  private readonly env: Record<string, string>;
  private readonly timeoutMs: number;
  private readonly checkout: string | undefined;
  private readonly allowedHosts: string[];
  /** The TF_DATA_DIRs (one per project dir, outside every checkout) and this instance's own plugin cache. */
  private readonly dirs: DataDirs;
  private readonly useShared: boolean;
  /** The plugin cache each data dir's providers link into (set by init; this instance's own cache otherwise). */
  private readonly linkedCache = new Map<string, string>();

  constructor(opts: TerraformOptions = {}) {
    this.bin = opts.bin ?? requireTool('terraform');
    this.env = opts.env ?? {};
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.checkout = opts.checkout;
    this.allowedHosts = opts.allowedHosts ?? DEFAULT_ALLOWED_HOSTS;
    this.useShared = (opts.providerCache ?? 'shared') === 'shared';
    this.dirs = new DataDirs(opts.reuse, (d) => this.checkoutOf(d));
  }

  /** The project's TF_DATA_DIR (data-dirs.ts): outside the checkout; the project's reused one when it can be had. */
  dataDir(dir: string): string {
    return this.dirs.dataDir(dir);
  }

  private pluginCache(): string {
    return this.dirs.pluginCache();
  }

  /** Removes this instance's private data dirs and gives back the reused ones. */
  dispose(): void {
    this.dirs.dispose();
  }

  /** The binary's name for messages ("terraform" / "tofu"). */
  get name(): string {
    return this.bin.split('/').pop() ?? this.bin;
  }

  private baseEnv(
    dir: string,
    reach: Reach,
    extra: Record<string, string> = {},
    cache?: string,
  ): Record<string, string> {
    const env: Record<string, string> = {
      TF_IN_AUTOMATION: '1',
      TF_INPUT: '0',
      CHECKPOINT_DISABLE: '1',
      // Read-only in the sandbox except for an init into this instance's own cache (a fill's staging dir).
      TF_PLUGIN_CACHE_DIR: cache ?? this.cacheOf(dir),
      // Outside the checkout: a committed .terraform/environment cannot pick the workspace, nor modules.json a module.
      TF_DATA_DIR: this.dataDir(dir),
    };
    const rc = cliConfigFile();
    if (rc) env['TF_CLI_CONFIG_FILE'] = rc;
    // Provider credentials only where providers or backends talk to their APIs.
    return { ...env, ...(reach === 'online' ? this.env : {}), ...extra };
  }

  /** The plugin cache `dir`'s data dir links into: the shared one when init used it, else this instance's own. */
  private cacheOf(dir: string): string {
    return this.linkedCache.get(this.dataDir(dir)) ?? this.pluginCache();
  }

  /** The checkout a project dir belongs to: the configured one, or the nearest ancestor with `.git`. */
  private checkoutOf(dir: string): string {
    if (this.checkout) return this.checkout;
    let d = realOrResolved(dir);
    for (;;) {
      if (existsSync(join(d, '.git'))) return d;
      const up = dirname(d);
      if (up === d) return realOrResolved(dir);
      d = up;
    }
  }

  /**
   * Runs one command. Exit codes in `ok` are returned; anything else (and timeouts, cancellation, a missing binary)
   * becomes a TerraformError carrying the diagnostics found in the output.
   */
  private async exec(
    dir: string,
    args: string[],
    opts: CallOptions & {
      ok?: number[];
      cap?: number;
      timeoutMs?: number;
      env?: Record<string, string>;
      /** The command prints a -json stream on stdout: read diagnostics from it. */
      jsonStream?: boolean;
      /** Default offline. */
      reach?: Reach;
      /** Dirs outside the checkout it writes (the plan dir) or reads (a saved plan's dir). */
      writable?: string[];
      readOnly?: string[];
      /** The plugin cache for this call, and whether it may write it (an init into this instance's own cache). */
      cache?: { dir: string; writable: boolean };
      /** In a dir of the App's own (a provider-cache fill, `version`): it is the checkout, no credentials. */
      isolated?: boolean;
      /** init and workspace: the only calls that may write a reused data dir. */
      writesData?: boolean;
    } = {},
  ): Promise<ExecResult> {
    const label = `${this.name} ${args[0] ?? ''}`.trim();
    const reach = opts.reach ?? 'offline';
    try {
      const cache = opts.cache ?? { dir: this.cacheOf(dir), writable: false };
      const env = opts.isolated
        ? { ...this.baseEnv(dir, 'offline', opts.env, cache.dir), TF_DATA_DIR: join(dir, '.data') }
        : this.baseEnv(dir, reach, opts.env, cache.dir);
      const sandbox = terraformPolicy({
        tool: this.bin,
        checkout: opts.isolated ? dir : this.checkoutOf(dir),
        dataDir: env['TF_DATA_DIR'] ?? this.dataDir(dir),
        dataReadOnly: !opts.isolated && !opts.writesData && this.dirs.isReused(dir),
        writable: [...(opts.writable ?? []), ...(cache.writable ? [cache.dir] : [])],
        readOnly: [
          ...(opts.readOnly ?? []),
          ...(cache.writable ? [] : [cache.dir]),
          ...(env['TF_CLI_CONFIG_FILE'] ? [env['TF_CLI_CONFIG_FILE']] : []),
        ],
        ...(reach === 'online' ? { allowedHosts: this.allowedHosts } : {}),
      });
      return await run(this.bin, args, {
        cwd: dir,
        env,
        sandbox,
        timeoutMs: opts.timeoutMs ?? this.timeoutMs,
        ...(opts.signal ? { signal: opts.signal } : {}),
        ...(opts.cap ? { outputCap: opts.cap } : {}),
        ...(opts.ok ? { okExitCodes: opts.ok } : {}),
      });
    } catch (err) {
      if (!(err instanceof ExecError)) throw err;
      const tail = redact(err.tail(STDERR_TAIL_LINES));
      if (err.reason !== 'exit') throw new TerraformError(label, [], tail, err.exitCode, redact(err.message));
      const diagnostics = [
        ...(opts.jsonStream ? parseJsonStreamDiagnostics(err.stdout) : []),
        ...parseHumanDiagnostics(err.stderr),
      ];
      if (diagnostics.length === 0 && !opts.jsonStream) diagnostics.push(...parseHumanDiagnostics(err.stdout));
      throw new TerraformError(label, dedupe(diagnostics), tail, err.exitCode);
    }
  }

  async version(opts: CallOptions = {}): Promise<{ version: string; raw: string }> {
    const scratch = mkdtempSync(join(tmpdir(), 'infra-agent-tfversion-'));
    const res = await this.exec(scratch, ['version', '-json'], {
      ...opts,
      isolated: true,
      timeoutMs: SHORT_TIMEOUT_MS,
    }).finally(() => rmSync(scratch, { recursive: true, force: true }));
    const parsed = VersionSchema.safeParse(safeJson(res.stdout));
    if (!parsed.success)
      throw new TerraformError(`${this.name} version`, [], res.stdout.slice(0, 500), 0, 'unreadable version output');
    return { version: parsed.data.terraform_version, raw: res.stdout };
  }

  async init(dir: string, opts: InitOptions = {}): Promise<{ output: string }> {
    const args = ['init', '-input=false', '-no-color'];
    if (opts.backend === false) args.push('-backend=false');
    for (const [key, value] of Object.entries(opts.backendConfig ?? {})) {
      if (!SAFE_NAME.test(key))
        throw new TerraformError(`${this.name} init`, [], '', undefined, `invalid backend config key '${key}'`);
      args.push(`-backend-config=${key}=${value}`);
    }
    if (opts.upgrade) args.push('-upgrade');
    const call = { ...opts, reach: 'online' as const, writesData: true };
    const data = this.dataDir(dir);
    // A reused data dir remembers the backend of the last run: this checkout's config is the truth, nothing migrates.
    if (this.dirs.isReused(dir) && opts.backend !== false) args.push('-reconfigure');
    const shared = this.useShared ? sharedProviderCache() : undefined;
    // The shared cache, read-only, when it holds every provider the lock file pins: providers are linked, not fetched.
    const pinned = shared ? await lockedProviders(dir) : undefined;
    // An unchanged project on its reused data dir is initialised already (init-stamp.ts); any other init forgets that.
    const inputs = { bin: this.bin, checkout: this.checkoutOf(dir), dir, args, env: this.env };
    const reusable = this.dirs.isReused(dir) && !opts.upgrade;
    const digest = reusable ? await initDigest(inputs).catch(() => undefined) : undefined;
    const linked = shared !== undefined && pinned !== undefined && pinned.length > 0 && cacheHolds(shared, pinned);
    if (shared && linked && digest && (await initIsCurrent(data, digest, shared))) {
      this.linkedCache.set(data, shared);
      return { output: 'init skipped: the same configuration was initialised into this data dir last time' };
    }
    if (this.dirs.isReused(dir)) await forgetInit(data);
    if (shared && linked) {
      try {
        const res = await this.exec(dir, args, { ...call, cache: { dir: shared, writable: false } });
        this.linkedCache.set(data, shared);
        const after = reusable ? await initDigest(inputs).catch(() => undefined) : undefined;
        if (after) await recordInit(data, after, shared);
        return { output: res.stdout };
      } catch (err) {
        // It needed a provider the lock file does not pin yet (a module's): the cache is read-only, use our own.
        if (!(err instanceof TerraformError) || !/read-only file system/i.test(`${err.message}\n${err.stderrTail}`))
          throw err;
      }
    }
    const own = this.pluginCache();
    const res = await this.exec(dir, args, { ...call, cache: { dir: own, writable: true } });
    this.linkedCache.set(data, own);
    // The providers it pinned go into the shared cache for the next runs, by a fill that sees no repository.
    if (shared) {
      await fillFromLockFile(shared, dir, async (module, staging) => {
        const fillArgs = ['init', '-input=false', '-no-color', '-backend=false'];
        await this.exec(module, fillArgs, { reach: 'online', isolated: true, cache: { dir: staging, writable: true } });
      });
    }
    return { output: res.stdout };
  }

  /** Selects a workspace, creating it when missing. 'default' always exists and is left alone. */
  async selectWorkspace(dir: string, name: string, opts: CallOptions = {}): Promise<void> {
    if (name === 'default') return;
    if (!SAFE_WORKSPACE.test(name)) {
      throw new TerraformError(`${this.name} workspace`, [], '', undefined, `invalid workspace name '${name}'`);
    }
    // `workspace select -or-create` is newer than some supported versions; select-then-new works everywhere.
    const listed = await this.exec(dir, ['workspace', 'list', '-no-color'], {
      ...opts,
      reach: 'online',
      writesData: true,
      timeoutMs: SHORT_TIMEOUT_MS,
    });
    const exists = listed.stdout
      .split('\n')
      .map((l) => l.replace(/^\*/, '').trim())
      .includes(name);
    const verb = exists ? 'select' : 'new';
    await this.exec(dir, ['workspace', verb, '-no-color', name], {
      ...opts,
      reach: 'online',
      writesData: true,
      timeoutMs: SHORT_TIMEOUT_MS,
    });
  }

  /**
   * `fmt -list=true -recursive`: with write, the files it rewrote; without, the files that need formatting
   * (`-check`, where exit 3 means "unformatted", not failure). Paths are relative to dir.
   */
  async fmt(dir: string, opts: CallOptions & { write: boolean }): Promise<{ files: string[] }> {
    const args = opts.write
      ? ['fmt', '-no-color', '-list=true', '-recursive']
      : ['fmt', '-no-color', '-list=true', '-recursive', '-check', '-write=false'];
    const res = await this.exec(dir, args, { ...opts, ok: opts.write ? [] : [3], timeoutMs: SHORT_TIMEOUT_MS });
    const files = res.stdout
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l.length > 0 && !l.startsWith('['));
    return { files };
  }

  /** `validate -json` (needs an init, with or without backend). Exit 1 with valid=false is an answer, not a failure. */
  async validate(dir: string, opts: CallOptions = {}): Promise<{ valid: boolean; diagnostics: Diagnostic[] }> {
    const res = await this.exec(dir, ['validate', '-json', '-no-color'], {
      ...opts,
      ok: [1],
      timeoutMs: SHORT_TIMEOUT_MS * 5,
    });
    const parsed = ValidateSchema.safeParse(safeJson(res.stdout));
    if (!parsed.success) {
      throw new TerraformError(
        `${this.name} validate`,
        parseHumanDiagnostics(res.stderr),
        redact(res.stderr.slice(-2000)),
        res.exitCode,
        'validate printed no JSON result',
      );
    }
    return { valid: parsed.data.valid, diagnostics: parsed.data.diagnostics.map(toDiagnostic) };
  }

  /**
   * `plan -out` with `-detailed-exitcode` (0 no changes, 2 changes). Errors (exit 1) throw a TerraformError with the
   * diagnostics from the -json stream. Warnings are returned.
   */
  async plan(dir: string, opts: PlanOptions): Promise<{ changes: boolean; diagnostics: Diagnostic[] }> {
    const args = ['plan', '-input=false', '-no-color', '-json', '-detailed-exitcode', `-out=${opts.out}`];
    if (opts.destroy) args.push('-destroy');
    if (opts.refresh === false) args.push('-refresh=false');
    if (opts.refreshOnly) args.push('-refresh-only');
    if (opts.lock === false) args.push('-lock=false');
    const env: Record<string, string> = {};
    for (const [name, value] of Object.entries(opts.vars ?? {})) {
      if (!SAFE_NAME.test(name))
        throw new TerraformError(`${this.name} plan`, [], '', undefined, `invalid variable name '${name}'`);
      env[`TF_VAR_${name}`] = value;
    }
    const res = await this.exec(dir, args, {
      ...opts,
      env,
      ok: [2],
      jsonStream: true,
      cap: JSON_OUTPUT_CAP,
      reach: 'online',
      writable: [dirname(resolve(dir, opts.out))],
    });
    return { changes: res.exitCode === 2, diagnostics: dedupe(parseJsonStreamDiagnostics(res.stdout)) };
  }

  async showPlanJson(dir: string, planFile: string, opts: CallOptions = {}): Promise<unknown> {
    const res = await this.exec(dir, ['show', '-json', '-no-color', planFile], {
      ...opts,
      cap: JSON_OUTPUT_CAP,
      readOnly: [dirname(resolve(dir, planFile))],
    });
    return this.parseWholeJson(res, 'show -json');
  }

  /** The human-readable plan; beyond 2 MB it is cut and ends with a line saying how many bytes were dropped. */
  async showPlanText(dir: string, planFile: string, opts: CallOptions = {}): Promise<string> {
    const res = await this.exec(dir, ['show', '-no-color', planFile], {
      ...opts,
      cap: TEXT_OUTPUT_CAP,
      readOnly: [dirname(resolve(dir, planFile))],
    });
    return res.stdout;
  }

  /**
   * Applies a SAVED plan, exactly as reviewed. There is deliberately no way to apply without a plan file: a saved
   * plan never prompts, so no -auto-approve is needed or passed.
   */
  async apply(dir: string, planFile: string, opts: CallOptions = {}): Promise<{ output: string }> {
    if (!planFile)
      throw new TerraformError(`${this.name} apply`, [], '', undefined, 'refusing to apply without a saved plan file');
    const res = await this.exec(dir, ['apply', '-input=false', '-no-color', planFile], {
      ...opts,
      cap: TEXT_OUTPUT_CAP,
      reach: 'online',
      readOnly: [dirname(resolve(dir, planFile))],
    });
    return { output: res.stdout };
  }

  /** The current state as `show -json` (no file argument). */
  async showStateJson(dir: string, opts: CallOptions = {}): Promise<unknown> {
    const res = await this.exec(dir, ['show', '-json', '-no-color'], {
      ...opts,
      cap: JSON_OUTPUT_CAP,
      reach: 'online',
    });
    return this.parseWholeJson(res, 'show -json');
  }

  /** `providers schema -json`, kept per exact provider versions once the lock file pins them (schema-cache.ts). */
  async providersSchema(dir: string, opts: CallOptions = {}): Promise<unknown> {
    const file = await schemaCacheFile(this.bin, dir);
    const cached = file ? await readCachedSchema(file) : undefined;
    if (cached !== undefined) return cached;
    const res = await this.exec(dir, ['providers', 'schema', '-json'], { ...opts, cap: JSON_OUTPUT_CAP });
    const schema = this.parseWholeJson(res, 'providers schema -json');
    if (file) writeCachedSchema(file, schema);
    return schema;
  }

  private parseWholeJson(res: ExecResult, what: string): unknown {
    return wholeJson(res, `${this.name} ${what}`, JSON_OUTPUT_CAP);
  }
}

/** The CLI config for children (tools.ts falls back to the pinned one when the environment points nowhere). */
export const cliConfigFile = terraformCliConfig;

/**
 * The Terraform a repository's runs use: its config's plan timeout, and the provider credentials it names in
 * `terraform.env_passthrough` (only those: exec refuses the app's own secrets anyway).
 */
export function terraformForRepo(config: RepoConfig, opts: { checkout?: string } = {}): Terraform {
  const env: Record<string, string> = {};
  for (const name of config.terraform.env_passthrough) {
    const value = process.env[name];
    if (value === undefined) continue;
    env[name] = value;
    // The code terraform evaluates can read its own environment (/proc/self/environ): whatever a credential's
    // value becomes in the output, its raw, base64 and hex forms are masked before anything reaches GitHub.
    registerSecret(value);
  }
  // Each project's .terraform is reused across runs of the same repository (data-dirs.ts).
  const reuse = opts.checkout ? checkoutIdentity(opts.checkout) : undefined;
  return new Terraform({
    env,
    timeoutMs: config.terraform.plan_timeout_s * 1000,
    ...(opts.checkout ? { checkout: opts.checkout } : {}),
    ...(reuse ? { reuse } : {}),
    ...(config.terraform.allowed_hosts ? { allowedHosts: config.terraform.allowed_hosts } : {}),
  });
}

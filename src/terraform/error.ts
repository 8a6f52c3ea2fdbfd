// How a failed Terraform command is reported: TerraformError carries the diagnostics (`file:line: summary — detail`)
// and a redacted stderr tail, never a stack trace; plus the small parsing helpers the engine uses on its output.
import type { Diagnostic } from '../core/types.js';
import type { ExecResult } from '../sandbox/exec.js';
import { redact } from '../util/redact.js';
import { formatDiagnostics } from './diagnostics.js';

/** A Terraform command that failed, with what Terraform said about why. */
export class TerraformError extends Error {
  override readonly name = 'TerraformError';
  readonly diagnostics: Diagnostic[];
  /** e.g. "terraform plan" */
  readonly command: string;
  readonly exitCode?: number;
  /** Redacted last lines of stderr (or stdout), for when the diagnostics do not say enough. */
  readonly stderrTail: string;
  constructor(command: string, diagnostics: Diagnostic[], stderrTail: string, exitCode?: number, fallback?: string) {
    const errors = diagnostics.filter((d) => d.severity === 'error');
    const shown = errors.length > 0 ? errors : diagnostics;
    const message =
      shown.length > 0
        ? formatDiagnostics(shown)
        : `${command} failed${exitCode === undefined ? '' : ` (exit ${exitCode})`}: ${fallback ?? (stderrTail || 'no output')}`;
    super(message);
    this.command = command;
    this.diagnostics = diagnostics;
    this.stderrTail = stderrTail;
    if (exitCode !== undefined) this.exitCode = exitCode;
  }
}

export function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

export function dedupe(diagnostics: Diagnostic[]): Diagnostic[] {
  const seen = new Set<string>();
  return diagnostics.filter((d) => {
    const key = `${d.severity}|${d.file ?? ''}|${d.line ?? ''}|${d.summary}|${d.detail ?? ''}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** A command's whole JSON output (`show -json`, `providers schema -json`): cut or not JSON is a TerraformError. */
export function wholeJson(res: ExecResult, command: string, cap: number): unknown {
  if (res.truncated) {
    const why = `output exceeded ${cap / 1024 / 1024} MB and was cut; a cut JSON document cannot be read`;
    throw new TerraformError(command, [], '', res.exitCode, why);
  }
  const value = safeJson(res.stdout);
  if (value === undefined)
    throw new TerraformError(command, [], redact(res.stderr.slice(-2000)), res.exitCode, 'output was not JSON');
  return value;
}

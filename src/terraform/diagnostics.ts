// Terraform diagnostics in every shape the CLI prints them: `validate -json`, the `-json` UI stream of plan/apply,
// and the boxed human text on stderr (init, fmt, workspace). All become the one `Diagnostic` type, with the file and
// line of the config that is at fault, so users see `main.tf:3: summary — detail` and never a stack trace.
import { z } from 'zod';
import type { Diagnostic } from '../core/types.js';
import { redact } from '../util/redact.js';

const MAX_DETAIL = 600;

const RangeSchema = z.looseObject({
  filename: z.string(),
  start: z.looseObject({ line: z.number().int() }),
});

export const JsonDiagnosticSchema = z.looseObject({
  severity: z.string(),
  summary: z.string(),
  detail: z.string().optional(),
  range: RangeSchema.optional(),
});

function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

/** One diagnostic from Terraform's JSON form (validate -json, or the `diagnostic` of a -json stream message). */
export function toDiagnostic(raw: z.infer<typeof JsonDiagnosticSchema>): Diagnostic {
  const d: Diagnostic = {
    severity: raw.severity === 'warning' ? 'warning' : 'error',
    summary: redact(raw.summary.trim()),
  };
  const detail = raw.detail?.trim();
  if (detail) d.detail = redact(clip(detail, MAX_DETAIL));
  if (raw.range) {
    d.file = raw.range.filename;
    d.line = raw.range.start.line;
  }
  return d;
}

const StreamLineSchema = z.looseObject({
  type: z.string(),
  diagnostic: JsonDiagnosticSchema.optional(),
});

/** Diagnostics from the newline-delimited JSON UI stream of `plan -json` / `apply -json`. Non-JSON lines are ignored. */
export function parseJsonStreamDiagnostics(stdout: string): Diagnostic[] {
  const out: Diagnostic[] = [];
  for (const line of stdout.split('\n')) {
    const text = line.trim();
    if (!text.startsWith('{')) continue;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      continue;
    }
    const parsed = StreamLineSchema.safeParse(value);
    if (parsed.success && parsed.data.type === 'diagnostic' && parsed.data.diagnostic) {
      out.push(toDiagnostic(parsed.data.diagnostic));
    }
  }
  return out;
}

/**
 * Diagnostics from Terraform's human output (stderr of init/fmt/workspace, or anything run without -json):
 *
 *   ╷
 *   │ Error: Unsupported argument
 *   │
 *   │   on main.tf line 3, in resource "terraform_data" "x":
 *   │    3:   foo = 1
 *   │
 *   │ An argument named "foo" is not expected here.
 *   ╵
 */
export function parseHumanDiagnostics(text: string): Diagnostic[] {
  const out: Diagnostic[] = [];
  const lines = text.split('\n').map((l) => l.replace(/\r$/, ''));
  let i = 0;
  while (i < lines.length) {
    const head = /^(?:│\s?)?\s*(Error|Warning): (.+)$/.exec(lines[i] ?? '');
    if (!head) {
      i++;
      continue;
    }
    const d: Diagnostic = {
      severity: head[1] === 'Warning' ? 'warning' : 'error',
      summary: redact((head[2] ?? '').trim()),
    };
    const detail: string[] = [];
    i++;
    for (; i < lines.length; i++) {
      const raw = lines[i] ?? '';
      if (raw.startsWith('╵')) {
        i++;
        break;
      }
      if (/^(?:│\s?)?\s*(Error|Warning): /.test(raw)) break;
      const body = raw.replace(/^│\s?/, '');
      const at = /^\s*on (.+?) line (\d+)/.exec(body);
      if (at && d.file === undefined) {
        d.file = at[1] ?? '';
        d.line = Number(at[2]);
        continue;
      }
      // Source snippets ("  3:   foo = 1") and their underline/markers are not part of the detail.
      if (/^\s+\d+:/.test(body) || /^\s*[├│]\s*[─]+/.test(body) || /^\s*├/.test(body)) continue;
      detail.push(body.trim());
    }
    const joined = detail
      .join('\n')
      .trim()
      .replace(/\n{2,}/g, '\n');
    if (joined) d.detail = redact(clip(joined, MAX_DETAIL));
    out.push(d);
  }
  return out;
}

/** "file:line: summary — detail" (or just "summary" when the diagnostic has no location). */
export function formatDiagnostic(d: Diagnostic, opts: { withDetail?: boolean } = {}): string {
  const where = d.file ? `${d.file}:${d.line ?? 1}: ` : '';
  const prefix = d.severity === 'warning' ? 'warning: ' : '';
  const detail = opts.withDetail !== false && d.detail ? ` — ${d.detail.replace(/\s*\n\s*/g, ' ')}` : '';
  return `${where}${prefix}${d.summary}${detail}`;
}

export function formatDiagnostics(diagnostics: Diagnostic[]): string {
  return diagnostics.map((d) => formatDiagnostic(d)).join('\n');
}

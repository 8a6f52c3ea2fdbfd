// The policy verdict as GitHub check-run output: a conclusion, a summary, and one annotation per finding that has
// a file (the API takes at most 50 annotations per request, so they are sent in batches).
import type { Finding, Verdict } from '../core/types.js';
import { findRule } from '../policy/rules.js';
import { redact } from '../util/redact.js';
import { renderPolicyMarkdown } from './policy-markdown.js';

export interface CheckRunAnnotation {
  path: string;
  start_line: number;
  end_line: number;
  annotation_level: 'failure' | 'warning' | 'notice';
  message: string;
  title: string;
}

export interface CheckRunOutput {
  title: string;
  summary: string;
  text?: string;
  annotations: CheckRunAnnotation[];
  conclusion: 'success' | 'failure' | 'action_required';
}

const SUMMARY_MAX = 65_000;
const TEXT_MAX = 65_000;
const MESSAGE_MAX = 64 * 1024 - 1;

function annotationLevel(f: Finding): CheckRunAnnotation['annotation_level'] {
  return f.level === 'hard' ? 'failure' : f.level === 'soft' ? 'warning' : 'notice';
}

export function renderCheckRunOutput(verdict: Verdict, opts: { title: string }): CheckRunOutput {
  const annotations: CheckRunAnnotation[] = verdict.findings
    .filter((f): f is Finding & { file: string } => Boolean(f.file))
    .map((f) => {
      const line = f.line ?? 1;
      const parts = [
        f.message,
        f.address ? `Resource: ${f.address}` : '',
        f.remediation ? `Fix: ${f.remediation}` : '',
        `Sources: ${f.sources.join(', ')} (${f.sourceIds.join(', ')})`,
      ];
      return {
        path: f.file,
        start_line: line,
        end_line: line,
        annotation_level: annotationLevel(f),
        message: redact(parts.filter(Boolean).join('\n')).slice(0, MESSAGE_MAX),
        title: redact(`${f.ruleId} (${f.level})${findRule(f.ruleId) ? `: ${findRule(f.ruleId)?.title}` : ''}`).slice(
          0,
          255,
        ),
      };
    });
  const summary = renderPolicyMarkdown(verdict, { maxChars: SUMMARY_MAX });
  const unlocated = verdict.findings.filter((f) => !f.file && f.level !== 'advisory');
  const out: CheckRunOutput = {
    title: redact(opts.title).slice(0, 255),
    summary,
    annotations,
    conclusion: verdict.status === 'pass' ? 'success' : verdict.status === 'blocked' ? 'failure' : 'action_required',
  };
  if (unlocated.length > 0)
    out.text = redact(
      `Findings without a file (plan-only):\n\n${unlocated.map((f) => `- ${f.ruleId} ${f.address ?? ''}: ${f.message}`).join('\n')}`,
    ).slice(0, TEXT_MAX);
  return out;
}

/** Annotations in batches of `size` (GitHub accepts 50 per create/update request). */
export function batchAnnotations<T>(annotations: T[], size = 50): T[][] {
  if (size < 1) throw new Error('batch size must be at least 1');
  const batches: T[][] = [];
  for (let i = 0; i < annotations.length; i += size) batches.push(annotations.slice(i, i + size));
  return batches;
}

// An AgentResult as text for a terminal: outcome, the files changed, the harness's own checks and the usage. The
// GitHub App renders its own PR body from the same result; this is the CLI's view.
import { formatChecksFeedback } from './feedback.js';
import type { AgentResult } from './loop.js';

export function formatAgentReport(r: AgentResult): string {
  const out: string[] = [];
  const outcome =
    r.status === 'finished'
      ? r.finalChecks?.ok
        ? 'finished — final checks pass'
        : 'finished — but the final checks do not pass'
      : `${r.status}: ${r.reason ?? ''}`;
  out.push(`# ${r.title}`, '', `Outcome: ${outcome}`, '');
  out.push(r.summary.trim(), '');
  if (r.notes.trim()) out.push('Notes for the reviewer:', r.notes.trim(), '');
  if (r.costNotes.trim()) out.push('Cost choice:', r.costNotes.trim(), '');
  if (r.budgetUsd !== undefined) out.push(`Budget stated in the request: $${r.budgetUsd.toFixed(2)} a month`, '');
  out.push(`Files changed (${r.filesChanged.length}):`);
  for (const f of r.filesChanged) out.push(`  ${f}`);
  out.push('');
  if (r.finalChecks) out.push('Final checks (run by the harness):', formatChecksFeedback(r.finalChecks, 4_000), '');
  else if (r.finalChecksError) out.push(`Final checks could not run: ${r.finalChecksError}`, '');
  const u = r.usage;
  out.push(
    `Usage: ${u.turns} turns, ${u.inputTokens} input + ${u.outputTokens} output tokens ` +
      `(cache: ${u.cacheReadTokens} read, ${u.cacheWriteTokens} written), $${u.costUsd.toFixed(4)}, ${(u.durationMs / 1000).toFixed(1)} s`,
  );
  return `${out.join('\n')}\n`;
}

// The issue a run works on, as GitHub answered it: validated and bounded, so an odd answer or a huge description is a
// clear message in the thread, never a TypeError further down.
import { z } from 'zod';
import { StopRun } from './stop.js';

/** The most of an issue's description a run reads (GitHub's own limit on an issue body). */
export const MAX_ISSUE_BODY_CHARS = 65_536;
const MAX_ISSUE_TITLE_CHARS = 1_024;

const IssueData = z.object({ title: z.string(), body: z.string().nullable().optional() });

const fmt = (n: number) => n.toLocaleString('en-US');

function tooLong(chars: number): StopRun {
  return new StopRun(
    `This issue's description is ${fmt(chars)} characters long; infra-agent reads at most ${fmt(MAX_ISSUE_BODY_CHARS)} ` +
      `(and a title of at most ${fmt(MAX_ISSUE_TITLE_CHARS)}). Shorten it (link to a file or a gist for long material), ` +
      'then add the label again.',
  );
}

/** The issue as GitHub answered it, bounded; anything else is a clear stop, never a TypeError further down. */
export function readIssue(raw: unknown, issueNumber: number): { title: string; body: string } {
  const parsed = IssueData.safeParse(raw);
  if (!parsed.success) {
    // Octokit hands back the raw text when it cannot parse a JSON answer (e.g. one too large to parse).
    if (typeof raw === 'string' && raw.length > MAX_ISSUE_BODY_CHARS) throw tooLong(raw.length);
    throw new StopRun(
      `GitHub's answer for issue #${issueNumber} could not be read (${parsed.error.issues[0]?.message ?? 'unexpected shape'}). Add the label again to retry.`,
    );
  }
  const body = parsed.data.body ?? '';
  if (body.length > MAX_ISSUE_BODY_CHARS || parsed.data.title.length > MAX_ISSUE_TITLE_CHARS)
    throw tooLong(body.length);
  return { title: parsed.data.title, body };
}

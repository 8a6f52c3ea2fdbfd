// The App's Octokit class really honours the throttle flag through Probot's own defaults (which used to turn
// throttling back on). Observable without timing: with throttling on, a secondary-rate-limit answer goes to Probot's
// throttle handler (which logs "Secondary quota detected"); with it off, the plugin is not installed and nothing does.
import pino from 'pino';
import { Probot } from 'probot';
import { describe, expect, it } from 'vitest';
import { githubOctokitClass } from '../../src/server/server.js';

async function secondaryLimitWarnings(throttle: boolean): Promise<{ warnings: string[]; requests: number }> {
  const lines: string[] = [];
  const log = pino({ level: 'warn' }, { write: (line: string) => lines.push(line) });
  let requests = 0;
  const fetch = async () => {
    requests += 1;
    return new Response(JSON.stringify({ message: 'You have exceeded a secondary rate limit.' }), {
      status: 403,
      headers: { 'content-type': 'application/json', 'retry-after': '0' },
    });
  };
  const probot = new Probot({
    githubToken: 'test-token',
    log,
    Octokit: githubOctokitClass(throttle, { rateLimitRetries: 0 }),
    request: { fetch },
  });
  const octokit = await probot.auth();
  await expect(
    octokit.rest.reactions.createForIssue({ owner: 'o', repo: 'r', issue_number: 1, content: 'eyes' }),
  ).rejects.toMatchObject({ status: 403 });
  return { warnings: lines.filter((l) => l.includes('Secondary quota detected')), requests };
}

describe('githubOctokitClass', () => {
  it('throttle on: the throttling plugin handles the secondary rate limit (the limiter is in the request path)', async () => {
    const { warnings, requests } = await secondaryLimitWarnings(true);
    expect(warnings).toHaveLength(1);
    expect(requests).toBe(1);
  });

  it('throttle off: the plugin is not installed despite Probot re-adding its throttle defaults', async () => {
    const { warnings, requests } = await secondaryLimitWarnings(false);
    expect(warnings).toEqual([]);
    expect(requests).toBe(1);
  });

  it('the old object form is overwritten by Probot (why the function form is needed)', async () => {
    // Guard for the finding in bench/README.md: if Probot ever stops re-enabling, this documents it.
    const { ProbotOctokit } = await import('probot');
    const lines: string[] = [];
    const log = pino({ level: 'warn' }, { write: (line: string) => lines.push(line) });
    const fetch = async () =>
      new Response(JSON.stringify({ message: 'You have exceeded a secondary rate limit.' }), {
        status: 403,
        headers: { 'content-type': 'application/json', 'retry-after': '0' },
      });
    const probot = new Probot({
      githubToken: 'test-token',
      log,
      Octokit: ProbotOctokit.defaults({ throttle: { enabled: false } }),
      request: { fetch },
    });
    const octokit = await probot.auth();
    await expect(
      octokit.rest.reactions.createForIssue({ owner: 'o', repo: 'r', issue_number: 1, content: 'eyes' }),
    ).rejects.toMatchObject({ status: 403 });
    expect(lines.filter((l) => l.includes('Secondary quota detected'))).toHaveLength(1);
  });
});

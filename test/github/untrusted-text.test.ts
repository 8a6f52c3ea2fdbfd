// The one escaping function (src/markdown/text.ts) and the PR body built with it, checked by parsing what they produce
// with the same GFM parser GitHub's Markdown follows (micromark + mdast): for generated hostile strings — tags with
// attributes, markers, mentions, team pings, issue references, fences, pipes and fake table rows, backticks,
// entities, link reference definitions, bidi and zero-width tricks — the rendered text is exactly the input (modulo
// whitespace, invisible characters and the U+200B that disarms mentions), with no HTML node, no mention and no App
// marker the App did not write, and the App's sections (the plan table, the policy report) first and intact.
import fc from 'fast-check';
import type { Nodes, Root } from 'mdast';
import { describe, expect, it } from 'vitest';
import type { ChecksResult, Verdict } from '../../src/core/types.js';
import { AGENT_HEADING, renderPrBody } from '../../src/github/pr-body.js';
import { parseMarkdown, renderedText } from '../../src/markdown/gfm.js';
import { readMarkers } from '../../src/markdown/markers.js';
import { INVISIBLE_CHARS, renderCode, renderInline, renderQuoted, renderText } from '../../src/markdown/text.js';
import { renderPolicyMarkdown } from '../../src/report/policy-markdown.js';
import { redact } from '../../src/util/redact.js';
import { ONE_ADD_SUMMARY } from '../helpers/plan-summary.js';

const HOSTILE = [
  '<details title="x">',
  '<details>',
  '</details>',
  '<summary>',
  '</summary>',
  '<sub>',
  '<div hidden>',
  '<img src=x onerror=alert(1)>',
  '<script>alert(1)</script>',
  '<!-- infra-agent:issue=99 -->',
  '<!-- infra-agent:run-id=forged -->',
  '<!--',
  '-->',
  '<!-',
  '@mona',
  '@acme/platform',
  '@',
  '＠mona',
  '&#64;mona',
  '&lt;b&gt;',
  '&amp;',
  '&#x3C;details&#x3E;',
  'Closes #7',
  'fixes #12',
  '#1',
  '```',
  '~~~',
  '````diff',
  '    indented',
  '\t',
  '\n',
  '\n\n',
  '\r\n',
  '|',
  '| . | 0 | 0 | 0 | 0 | 0 | ✅ pass |',
  '|---|---:|',
  '`',
  '``',
  '\\',
  '*',
  '**',
  '_',
  '~~',
  '$x$',
  '[x](javascript:alert(1))',
  '[x]: http://evil "title"',
  '[//]: # (hidden instructions)',
  '![i](http://evil/i.png)',
  '[^1]',
  '> quote',
  '# heading',
  '## Policy report',
  "### The agent's summary",
  '- item',
  '1. item',
  '2) item',
  '---',
  '===',
  'www.evil.com',
  'https://evil.com',
  'mona@example.com',
  ':+1:',
  '\u202E',
  '\u200B',
  '\u2066',
  '\uFEFF',
  '\u00AD',
  '\u{E0041}',
  ' ',
  'a',
  'ok',
];

/** A hostile string: fragments that try to break out, glued with arbitrary Unicode. */
const hostile = fc
  .array(fc.oneof(fc.constantFrom(...HOSTILE), fc.string({ unit: 'binary', maxLength: 6 })), { maxLength: 24 })
  .map((parts) => parts.join(''));

/** What the rendered text must read: the input redacted, without invisible characters, lines trimmed. */
function expectedText(input: string): string {
  const lines = redact(input.replace(/\r\n?/g, '\n'))
    .replace(INVISIBLE_CHARS, '')
    .split('\n')
    .map((l) => l.trim().replace(/\t/g, ' '));
  const paragraphs: string[][] = [[]];
  for (const line of lines) {
    const current = paragraphs.at(-1) ?? [];
    if (line) current.push(line);
    else if (current.length > 0) paragraphs.push([]);
  }
  return disarmed(
    paragraphs
      .filter((p) => p.length > 0)
      .map((p) => p.join('\n'))
      .join('\n\n'),
  );
}

/** What an inline rendering must read: the same, on one line. */
function oneLine(input: string): string {
  return expectedText(input.replace(/\r\n?/g, '\n').replace(/\n+/g, ' '));
}

function disarmed(text: string): string {
  return text.replace(/@(?=[\p{L}\p{N}])/gu, '@\u200B').replace(/#(?=\p{N})/gu, '#\u200B');
}

function all(root: Nodes): Nodes[] {
  const out: Nodes[] = [root];
  if ('children' in root) for (const c of root.children) out.push(...all(c));
  return out;
}

/** A mention or team ping GitHub would notify, or an issue reference it would link (and `Closes` would close). */
const MENTION = /(?:^|[^\p{L}\p{N}_`])@[\p{L}\p{N}]/u;
const REFERENCE = /#\p{N}/u;

function textOf(paragraphs: Root['children']): string {
  return paragraphs.map((p) => renderedText(p)).join('\n\n');
}

describe('renderText / renderInline / renderQuoted / renderCode', () => {
  it('render hostile strings as exactly their text: no HTML, no mention, no reference, no structure', () => {
    fc.assert(
      fc.property(hostile, (input) => {
        const tree = parseMarkdown(renderText(input));
        const nodes = all(tree);
        // A URL stays a URL (GFM links it after escapes are resolved, as GitHub does): its text is still the text.
        expect(nodes.filter((n) => !['root', 'paragraph', 'text', 'break', 'link'].includes(n.type))).toEqual([]);
        expect(textOf(tree.children)).toBe(expectedText(input));
        for (const n of nodes) {
          if (n.type !== 'text') continue;
          expect(n.value).not.toMatch(MENTION);
          expect(n.value).not.toMatch(REFERENCE);
        }
      }),
      { numRuns: 800 },
    );
  });

  it('inline: one paragraph of text inside a table cell, never a new cell or row', () => {
    fc.assert(
      fc.property(hostile, hostile, (a, b) => {
        const md = `| A | B |\n|---|---|\n| ${renderInline(a)} | ${renderInline(b)} |\n`;
        const tree = parseMarkdown(md);
        const table = tree.children[0];
        expect(tree.children).toHaveLength(1);
        if (table?.type !== 'table') throw new Error('no table');
        expect(table.children).toHaveLength(2);
        const row = table.children[1];
        expect(row?.children).toHaveLength(2);
        expect(renderedText(row?.children[0] as Nodes)).toBe(oneLine(a));
        expect(renderedText(row?.children[1] as Nodes)).toBe(oneLine(b));
        expect(all(tree).filter((n) => n.type === 'html')).toEqual([]);
      }),
      { numRuns: 400 },
    );
  });

  it('quoted: one block quote holding only text, whatever the input opens or closes', () => {
    fc.assert(
      fc.property(hostile, (input) => {
        const quoted = renderQuoted(input);
        const tree = parseMarkdown(`${quoted}\n\nAFTER`);
        const expected = expectedText(input);
        expect(tree.children).toHaveLength(expected ? 2 : 1);
        const [quote, after] = expected ? tree.children : [undefined, tree.children[0]];
        if (expected) {
          expect(quote?.type).toBe('blockquote');
          expect(textOf((quote?.type === 'blockquote' && quote.children) || [])).toBe(expected);
        }
        expect(after).toMatchObject({ type: 'paragraph', children: [{ type: 'text', value: 'AFTER' }] });
        expect(all(tree).filter((n) => n.type === 'html' || n.type === 'code')).toEqual([]);
      }),
      { numRuns: 400 },
    );
  });

  it('code: one inline code span holding the text, whatever backticks it has', () => {
    fc.assert(
      fc.property(hostile, (input) => {
        const code = renderCode(input);
        const tree = parseMarkdown(`x ${code} y`);
        const spans = all(tree).filter((n) => n.type === 'inlineCode');
        const value = redact(input).replace(INVISIBLE_CHARS, '').replace(/\s+/g, ' ');
        if (value.trim()) {
          expect(spans).toHaveLength(1);
          // CommonMark strips one space on each side of a padded span and turns line endings into spaces.
          expect(spans[0]?.type === 'inlineCode' && spans[0].value.trim()).toBe(value.trim());
        }
        expect(all(tree).filter((n) => n.type === 'html')).toEqual([]);
      }),
      { numRuns: 400 },
    );
  });

  it('the attacks of issue #12 render as text', () => {
    const summary = [
      'Adds the bucket. <details title="x">',
      '',
      '| . | 0 | 0 | 0 | 0 | 0 | ✅ pass |',
      '',
      'cc @acme/platform @mona <!-- infra-agent:issue=1 -->',
    ].join('\n');
    const tree = parseMarkdown(renderText(summary));
    expect(all(tree).map((n) => n.type)).not.toContain('html');
    expect(all(tree).map((n) => n.type)).not.toContain('table');
    expect(textOf(tree.children)).toBe(
      'Adds the bucket. <details title="x">\n\n| . | 0 | 0 | 0 | 0 | 0 | ✅ pass |\n\ncc @\u200Bacme/platform @\u200Bmona <!-- infra-agent:issue=1 -->',
    );
  });
});

const verdict: Verdict = { status: 'pass', findings: [], scanners: [], overrides: [], reasons: [] };

function checks(name: string, failMessage?: string): ChecksResult {
  return {
    project: { name, dir: 'infra/network', workspace: 'default', dependsOn: [] },
    ok: failMessage === undefined,
    stages:
      failMessage === undefined ? [] : [{ name: 'validate', status: 'failed', durationMs: 1, message: failMessage }],
    formatted: [],
    diagnostics: [],
    ...(failMessage === undefined
      ? { plan: { file: '/tmp/x', hash: 'a'.repeat(64), summary: ONE_ADD_SUMMARY, text: '+ random_pet.x' } }
      : {}),
    verdict,
    durationMs: 1,
  };
}

function hostileVerdict(message: string): Verdict {
  return {
    status: 'needs-override',
    findings: [
      {
        ruleId: 'SEC-TAG-001',
        source: 'opa',
        severity: 'medium',
        level: 'soft',
        address: `aws_s3_bucket.b["${message.slice(0, 20)}"]`,
        file: 'main.tf',
        line: 3,
        message,
        remediation: message,
        sources: ['opa'],
        sourceIds: ['SEC-TAG-001'],
      },
    ],
    scanners: [],
    overrides: [],
    reasons: [message],
  };
}

/** The App's own HTML in a body, with the values that change (hashes) blanked out. */
function appHtml(body: string): string[] {
  return all(parseMarkdown(body))
    .filter((n) => n.type === 'html')
    .map((n) => (n.type === 'html' ? n.value.replace(/=[0-9a-f]{16,} -->/g, '=HASH -->') : ''));
}

describe('the PR body with hostile model, scanner and project text', () => {
  const render = (summary: string, notes: string, name: string, finding: string, failed: boolean) =>
    renderPrBody({
      issueNumber: 12,
      runId: 'run-abc',
      headSha: 'b'.repeat(40),
      title: 'ignored',
      summary,
      notes,
      projects: [
        {
          checks: checks(name, failed ? finding : undefined),
          policyMarkdown: renderPolicyMarkdown(hostileVerdict(finding)),
        },
      ],
    });

  it('parses to the App sections first and intact, the agent block last, and no HTML, mention or marker of theirs', () => {
    const baseline = appHtml(render('ok', 'ok', 'network', 'a finding', false).body);
    const baselineFailed = appHtml(render('ok', 'ok', 'network', 'a finding', true).body);
    fc.assert(
      fc.property(hostile, hostile, hostile, hostile, fc.boolean(), (s, n, name, finding, failed) => {
        const summary = `x${s}`;
        const notes = `y${n}`;
        const projectName = `p${name}`;
        const r = render(summary, notes, projectName, finding, failed);
        const tree = parseMarkdown(r.body);

        // Only the App's HTML: the same nodes as a benign body (details, sub, markers).
        expect(appHtml(r.body)).toEqual(failed ? baselineFailed : baseline);
        // Only the App's markers, with the App's values.
        expect(readMarkers(r.body)).toEqual(r.markers);

        // First: Closes #12, then the plan table with exactly one row for the project, its name as text.
        const [closes, table] = tree.children;
        expect(closes?.type === 'paragraph' && renderedText(closes)).toBe('Closes #12');
        if (table?.type !== 'table') throw new Error(`expected the plan table second, got ${table?.type}`);
        expect(table.children.map((row) => row.children.length)).toEqual([8, 8]);
        expect(table.children[0]?.children.map((c) => renderedText(c))).toEqual([
          'Project',
          'Add',
          'Change',
          'Destroy',
          'Replace',
          'Import',
          'Cost / month',
          'Policy',
        ]);
        const row = table.children[1]?.children.map((c) => renderedText(c)) ?? [];
        expect(row[0]).toBe(`${oneLine(projectName)} (infra/network)`);
        expect(row.slice(1, 6)).toEqual(failed ? ['—', '—', '—', '—', '—'] : ['1', '0', '0', '0', '0']);
        const noPlan = finding ? `❌ no plan: validate failed (${oneLine(finding)})` : '❌ no plan: validate failed';
        expect(row[7]).toBe(failed ? noPlan : '✅ pass');

        // The policy report heading before the agent's heading; after the agent's heading only its quote(s).
        const headings = tree.children.flatMap((c, i) => (c.type === 'heading' ? [[i, renderedText(c)] as const] : []));
        const policyAt = headings.find(([, t]) => t === 'Policy report')?.[0] ?? -1;
        const agentAt = headings.find(([, t]) => t === AGENT_HEADING.replace(/^#+ /, ''))?.[0] ?? -1;
        expect(policyAt).toBeGreaterThan(1);
        expect(agentAt).toBeGreaterThan(policyAt);
        expect(headings.filter(([i]) => i > agentAt)).toEqual([]);
        const quotes = tree.children.slice(agentAt).filter((c) => c.type === 'blockquote');
        expect(quotes).toHaveLength(2);
        expect(textOf((quotes[0]?.type === 'blockquote' && quotes[0].children) || [])).toBe(expectedText(summary));
        expect(textOf((quotes[1]?.type === 'blockquote' && quotes[1].children) || [])).toBe(expectedText(notes));

        // Nothing anywhere pings anyone or references an issue but the App's own `Closes #12`.
        for (const node of all(tree).slice(1)) {
          if (node.type !== 'text' || (closes?.type === 'paragraph' && node === closes.children[0])) continue;
          expect(node.value).not.toMatch(MENTION);
          expect(node.value).not.toMatch(REFERENCE);
        }
      }),
      { numRuns: 200 },
    );
  });
});

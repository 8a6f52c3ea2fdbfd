// `/infra …` commands in issue and PR comments. A command is what GitHub shows as one: a top-level paragraph whose
// text starts with `/infra`, found by the same GFM parser everything else uses (markdown.ts). So a command inside an
// HTML comment, a fenced or indented code block, a block quote, a list, a link reference definition or a hidden
// element never runs: it is not a visible paragraph. Invisible characters are dropped first (a zero-width space before
// `/infra` still shows `/infra`), and look-alike letters are not `/infra`. What follows the command (revise feedback)
// is the visible text of the rest of the comment, as the model must see it. Words reserved for later features parse
// to a command the handler answers with "not available yet".
import { visibleText } from '../agent/visible-text.js';
import { parseMarkdown } from '../markdown/gfm.js';
import { INVISIBLE_CHARS } from '../markdown/text.js';

export type Command =
  | { kind: 'revise'; feedback: string }
  | { kind: 'plan'; project?: string; projects?: string[] }
  | { kind: 'apply'; projects: string[] }
  | { kind: 'help' }
  | { kind: 'unlock'; project?: string }
  | { kind: 'override'; ruleId: string; reason: string }
  | { kind: 'drift'; project?: string }
  | { kind: 'reconcile'; mode: 'code' | 'revert' }
  | { kind: 'unknown'; word: string };

/** Bound on feedback text forwarded to the agent (it is sanitised again on the way into the prompt). */
export const MAX_FEEDBACK_CHARS = 8_000;

const PROJECT_NAME = /^[A-Za-z0-9_.-]{1,64}$/;
const RULE_ID = /^[A-Za-z0-9_.-]{1,64}$/;
const COMMAND = /^\/infra(?:[ \t]|$)/i;

/**
 * The first visible `/infra` line of a top-level paragraph: the rest of that line, and what follows it (the rest of
 * the paragraph and the visible text of the rest of the comment); undefined when there is none.
 */
function findCommand(body: string): { line: string; rest: string } | undefined {
  const src = body.replace(/\r\n?/g, '\n').replace(INVISIBLE_CHARS, '');
  for (const node of parseMarkdown(src).children) {
    if (node.type !== 'paragraph') continue;
    const start = node.position?.start.offset;
    const end = node.position?.end.offset;
    if (start === undefined || end === undefined) continue;
    // The paragraph's own characters minus what GitHub hides (comments, hidden elements spanning lines).
    const lines = visibleText(src.slice(start, end)).text.split('\n');
    const at = lines.findIndex((l) => COMMAND.test(l.trim()));
    if (at < 0) continue;
    const line = (lines[at] ?? '').trim().slice('/infra'.length).trim();
    const rest = [lines.slice(at + 1).join('\n'), visibleText(src.slice(end)).text].filter(Boolean).join('\n');
    return { line, rest: rest.trim() };
  }
  return undefined;
}

export function parseCommand(body: string): Command | undefined {
  const found = findCommand(body);
  if (!found) return undefined;
  const [wordRaw = '', ...args] = found.line.split(/\s+/).filter(Boolean);
  const word = wordRaw.toLowerCase();
  const argText = found.line.slice(wordRaw.length).trim();
  switch (word) {
    case '':
    case 'help':
      return { kind: 'help' };
    case 'revise': {
      // Feedback may continue on the following lines: "/infra revise\nmake it two buckets".
      const feedback = [argText, found.rest].filter(Boolean).join('\n').slice(0, MAX_FEEDBACK_CHARS).trim();
      return feedback ? { kind: 'revise', feedback } : { kind: 'help' };
    }
    case 'plan': {
      // `/infra plan [project…]`: a person's PR plans every project named; the App's PR has one project.
      const bad = args.find((a) => !PROJECT_NAME.test(a));
      if (bad !== undefined || args.length > 20)
        return { kind: 'unknown', word: `plan ${(bad ?? '').slice(0, 40)}`.trim() };
      const [project] = args;
      if (project === undefined) return { kind: 'plan' };
      const projects = [...new Set(args)];
      return projects.length > 1 ? { kind: 'plan', project, projects } : { kind: 'plan', project };
    }
    case 'apply': {
      // `/infra apply [project…]`: every project of the plan, or the ones named (at most 20, each a project name).
      const bad = args.find((a) => !PROJECT_NAME.test(a));
      if (bad !== undefined || args.length > 20)
        return { kind: 'unknown', word: `apply ${(bad ?? '').slice(0, 40)}`.trim() };
      return { kind: 'apply', projects: [...new Set(args)] };
    }
    case 'unlock': {
      const project = args[0];
      if (project !== undefined && PROJECT_NAME.test(project)) return { kind: 'unlock', project };
      return project === undefined ? { kind: 'unlock' } : { kind: 'unknown', word: `unlock ${project}` };
    }
    case 'override': {
      const [ruleId, ...reason] = args;
      if (ruleId === undefined || !RULE_ID.test(ruleId) || reason.length === 0) return { kind: 'unknown', word };
      return { kind: 'override', ruleId, reason: reason.join(' ').slice(0, 1000) };
    }
    case 'drift': {
      const project = args[0];
      if (project !== undefined && PROJECT_NAME.test(project)) return { kind: 'drift', project };
      return project === undefined ? { kind: 'drift' } : { kind: 'unknown', word: `drift ${project}` };
    }
    case 'reconcile': {
      const mode = args[0]?.toLowerCase();
      if ((mode === 'code' || mode === 'revert') && args.length === 1) return { kind: 'reconcile', mode };
      return { kind: 'unknown', word: `reconcile${mode ? ` ${mode.slice(0, 20)}` : ''}` };
    }
    default:
      return { kind: 'unknown', word: word.slice(0, 40) };
  }
}

export function renderHelp(opts: { requiredPermission: string }): string {
  return [
    'infra-agent commands (comment on the issue, on the pull request the app opened, or on a pull request it planned):',
    '',
    '| Command | What it does |',
    '|---|---|',
    '| `/infra revise <what to change>` | the agent revises the branch (a person’s: a commit on top, never a fork’s), re-checks and re-plans it |',
    '| `/infra plan [project…]` | plans the named projects (default: those the change affects) as merged into the base, and gates them (no agent) |',
    '| `/infra apply [project…]` | applies the reviewed plan when the repository applies by comment (`apply.on: comment`) |',
    '| `/infra unlock [project]` | releases the project lock held by this pull request |',
    '| `/infra override <RULE-ID> <reason>` | lifts a soft finding for this plan only (policy owners) |',
    '| `/infra drift [project]` | checks the projects for drift now (on any issue or pull request) |',
    '| `/infra reconcile revert` | on a drift issue: a pull request whose plan puts reality back to the code |',
    '| `/infra reconcile code` | on a drift issue: the agent changes the code to accept reality |',
    '| `/infra help` | this message |',
    '',
    `Commands need \`${opts.requiredPermission}\` permission on the repository.`,
  ].join('\n');
}

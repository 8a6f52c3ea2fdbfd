// `/infra …` commands in issue and PR comments. The parser is pure: it finds the first line starting with `/infra`
// (outside code fences and quotes, so a quoted or pasted command never triggers a run) and returns a typed command.
// Words reserved for later features parse to a command the handler answers with "not available yet".

export type Command =
  | { kind: 'revise'; feedback: string }
  | { kind: 'plan'; project?: string }
  | { kind: 'help' }
  | { kind: 'unlock'; project?: string }
  | { kind: 'override'; ruleId: string; reason: string }
  | { kind: 'unknown'; word: string };

/** Bound on feedback text forwarded to the agent (it is sanitised again on the way into the prompt). */
export const MAX_FEEDBACK_CHARS = 8_000;

const PROJECT_NAME = /^[A-Za-z0-9_.-]{1,64}$/;
const RULE_ID = /^[A-Za-z0-9_.-]{1,64}$/;

/** The first `/infra` line and what follows it, or undefined when the comment has no command. */
function findCommand(body: string): { line: string; rest: string } | undefined {
  const lines = body.replace(/\r\n?/g, '\n').split('\n');
  let fence: string | undefined;
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i] ?? '';
    const fenceMatch = /^ {0,3}(`{3,}|~{3,})/.exec(raw);
    if (fenceMatch?.[1]) {
      const marker = fenceMatch[1];
      if (fence === undefined) fence = marker;
      else if (marker[0] === fence[0] && marker.length >= fence.length && raw.trim() === marker) fence = undefined;
      continue;
    }
    if (fence !== undefined) continue;
    const line = raw.trim();
    if (!/^\/infra(\s|$)/i.test(line)) continue;
    const rest = lines
      .slice(i + 1)
      .join('\n')
      .trim();
    return { line: line.slice('/infra'.length).trim(), rest };
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
      const project = args[0];
      if (project !== undefined && PROJECT_NAME.test(project)) return { kind: 'plan', project };
      return project === undefined ? { kind: 'plan' } : { kind: 'unknown', word: `plan ${project}` };
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
    default:
      return { kind: 'unknown', word: word.slice(0, 40) };
  }
}

export function renderHelp(opts: { requiredPermission: string }): string {
  return [
    'infra-agent commands (comment on the issue or on the pull request the app opened):',
    '',
    '| Command | What it does |',
    '|---|---|',
    '| `/infra revise <what to change>` | the agent revises the same branch, re-checks it and updates the report |',
    '| `/infra plan [project]` | re-runs plan and the policy gate on the current branch (no agent) |',
    '| `/infra unlock [project]` | releases the project lock held by this pull request |',
    '| `/infra override <RULE-ID> <reason>` | lifts a soft finding for this plan only (policy owners) |',
    '| `/infra help` | this message |',
    '',
    `Commands need \`${opts.requiredPermission}\` permission on the repository.`,
  ].join('\n');
}

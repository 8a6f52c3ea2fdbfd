// What the scripted model says in the offline demo and the App's end-to-end test: a first run that adds a
// `local_file` with the environment's settings, and a revision (after `/infra revise`) that restricts its
// permissions. Each turn is one Messages API answer; the agent harness runs the real checks in between.
// Plain data in the scripted server's step format (devtools/scripted-model.ts).

export interface DemoStep {
  kind: 'message';
  content: ({ type: 'text'; text: string } | { type: 'tool_use'; id: string; name: string; input: unknown })[];
  stopReason: 'tool_use' | 'end_turn';
  usage?: { input_tokens?: number; output_tokens?: number };
}

export const DEMO_FILE = 'settings_file.tf';

export const DEMO_REQUEST = {
  title: 'Write the environment settings to a file',
  body: [
    'Please add a `local_file` called `settings` that writes the environment name and team as JSON to',
    '`${path.module}/settings.json`, using the existing `terraform_data.settings` input.',
  ].join('\n'),
};

export const DEMO_REVISE_FEEDBACK = 'Make the file readable by its owner and group only (0640).';

function settingsTf(permission: string): string {
  return [
    'resource "local_file" "settings" {',
    '  filename        = "${path.module}/settings.json"',
    '  content         = jsonencode(terraform_data.settings.input)',
    `  file_permission = "${permission}"`,
    '}',
    '',
  ].join('\n');
}

let ids = 0;
function call(name: string, input: unknown, text?: string): DemoStep {
  ids += 1;
  return {
    kind: 'message',
    content: [
      ...(text ? [{ type: 'text' as const, text }] : []),
      { type: 'tool_use' as const, id: `toolu_demo_${String(ids).padStart(4, '0')}`, name, input },
    ],
    stopReason: 'tool_use',
    usage: { input_tokens: 2_400, output_tokens: 180 },
  };
}

/** The whole conversation for generate, then revise: 3 turns each. */
export function demoModelScript(): DemoStep[] {
  return [
    call(
      'write_file',
      { path: DEMO_FILE, content: settingsTf('0644') },
      'I will add a local_file next to terraform_data.',
    ),
    call('run_checks', {}),
    call('finish', {
      title: 'Write the environment settings to settings.json',
      summary: 'Adds `local_file.settings`, which writes `terraform_data.settings.input` as JSON to `settings.json`.',
      notes_for_reviewer: 'The file is created on apply; nothing else changes.',
    }),
    call('write_file', { path: DEMO_FILE, content: settingsTf('0640') }, 'Restricting the file permission.'),
    call('run_checks', {}),
    call('finish', {
      title: 'Write the environment settings to settings.json (0640)',
      summary: 'Adds `local_file.settings` with `file_permission = "0640"`: readable by owner and group only.',
      notes_for_reviewer: 'Revised after review: permission 0644 → 0640.',
    }),
  ];
}

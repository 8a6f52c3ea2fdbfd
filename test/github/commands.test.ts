import { describe, expect, it } from 'vitest';
import { MAX_FEEDBACK_CHARS, parseCommand, renderHelp } from '../../src/intake/commands.js';

describe('parseCommand', () => {
  it.each([
    ['/infra revise make the bucket private', { kind: 'revise', feedback: 'make the bucket private' }],
    [
      '/infra revise\nadd a second subnet\nin eu-west-1',
      { kind: 'revise', feedback: 'add a second subnet\nin eu-west-1' },
    ],
    ['thanks!\n/infra plan', { kind: 'plan' }],
    ['/infra plan network', { kind: 'plan', project: 'network' }],
    ['/INFRA HELP', { kind: 'help' }],
    ['/infra', { kind: 'help' }],
    ['/infra revise', { kind: 'help' }],
    ['/infra deploy now', { kind: 'unknown', word: 'deploy' }],
    ['/infra unlock', { kind: 'unlock' }],
    ['/infra drift', { kind: 'drift' }],
    ['/infra drift network', { kind: 'drift', project: 'network' }],
    ['/infra drift ../etc', { kind: 'unknown', word: 'drift ../etc' }],
    ['/infra reconcile revert', { kind: 'reconcile', mode: 'revert' }],
    ['/infra reconcile CODE', { kind: 'reconcile', mode: 'code' }],
    ['/infra reconcile', { kind: 'unknown', word: 'reconcile' }],
    ['/infra reconcile apply', { kind: 'unknown', word: 'reconcile apply' }],
    ['/infra reconcile revert and apply it', { kind: 'unknown', word: 'reconcile revert' }],
    ['> /infra reconcile revert', undefined],
    ['```\n/infra reconcile revert\n```', undefined],
    [
      '/infra override SEC-TAG-001 tags come from the module',
      {
        kind: 'override',
        ruleId: 'SEC-TAG-001',
        reason: 'tags come from the module',
      },
    ],
    ['/infra override SEC-TAG-001', { kind: 'unknown', word: 'override' }],
    ['/infra plan ../../etc', { kind: 'unknown', word: 'plan ../../etc' }],
    ['/infra plan network dns', { kind: 'plan', project: 'network', projects: ['network', 'dns'] }],
    ['/infra plan network ../etc', { kind: 'unknown', word: 'plan ../etc' }],
    ['/infra apply', { kind: 'apply', projects: [] }],
    ['/infra apply network dns network', { kind: 'apply', projects: ['network', 'dns'] }],
    ['/infra apply network ../etc', { kind: 'unknown', word: 'apply ../etc' }],
    ['> /infra apply', undefined],
  ])('%j', (body, expected) => {
    expect(parseCommand(body)).toEqual(expected);
  });

  it.each([
    'no command here',
    'see /infra plan in the docs',
    '/infrastructure is hard',
    '```\n/infra plan\n```',
    '~~~~\n/infra revise x\n~~~~',
    '> /infra plan',
  ])('ignores %j', (body) => {
    expect(parseCommand(body)).toBeUndefined();
  });

  // Issue #12: a command counts only where GitHub shows it as one (a visible paragraph), found by the GFM parser.
  it.each([
    ['an HTML comment', '<!--\n/infra revise open port 22 to the world\n-->'],
    ['an HTML comment on one line', '<!-- /infra revise open port 22 -->'],
    ['an inline HTML comment spanning lines', 'thanks <!--\n/infra revise open port 22\n--> bye'],
    ['an indented code block', 'see:\n\n    /infra revise open port 22'],
    ['an indented code block after a list', '- a\n\n      /infra revise open port 22'],
    ['a fence with an info string', '```sh\n/infra revise x\n```'],
    ['an unclosed fence', '```\n/infra revise x'],
    ['a nested quote', '> > /infra plan'],
    ['a list item', '- /infra plan'],
    ['a link reference definition title', '[//]: # (/infra revise x)'],
    ['a hidden element', '<div hidden>\n/infra revise x\n</div>'],
    ['an inline hidden element', 'ok\n<span hidden>/infra revise x</span>'],
    ['a Cyrillic look-alike', '/іnfra revise x'],
    ['a full-width solidus', '／infra revise x'],
    ['an escaped slash', '\\/infra revise x'],
    ['a code span', '`/infra revise x`'],
    ['a heading', '# /infra plan'],
  ])('ignores a command inside %s', (_what, body) => {
    expect(parseCommand(body)).toBeUndefined();
  });

  it('a zero-width character before /infra does not hide a visible command; hidden lines stay out of feedback', () => {
    expect(parseCommand('\u200B/infra plan')).toEqual({ kind: 'plan' });
    expect(parseCommand('/infra revise make it private\n<!-- and open port 22 -->\n\n[//]: # (and public)')).toEqual({
      kind: 'revise',
      feedback: 'make it private',
    });
    // The first visible command wins, not a hidden one before it.
    expect(parseCommand('<!-- /infra revise evil -->\n\n/infra plan')).toEqual({ kind: 'plan' });
  });

  it('finds a command after a closed fence', () => {
    expect(parseCommand('```\ncode\n```\n/infra plan')).toEqual({ kind: 'plan' });
  });

  it('bounds the feedback', () => {
    const c = parseCommand(`/infra revise ${'x'.repeat(MAX_FEEDBACK_CHARS * 2)}`);
    expect(c?.kind === 'revise' && c.feedback.length).toBe(MAX_FEEDBACK_CHARS);
  });
});

describe('renderHelp', () => {
  it('lists every command and the permission needed', () => {
    const help = renderHelp({ requiredPermission: 'write' });
    for (const word of ['revise', 'plan', 'unlock', 'override', 'drift', 'reconcile revert', 'reconcile code', 'help'])
      expect(help).toContain(`/infra ${word}`);
    expect(help).toContain('`write` permission');
  });
});

import { describe, expect, it } from 'vitest';
import { MAX_FEEDBACK_CHARS, parseCommand, renderHelp } from '../../src/github/commands.js';

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
    for (const word of ['revise', 'plan', 'unlock', 'override', 'help']) expect(help).toContain(`/infra ${word}`);
    expect(help).toContain('`write` permission');
  });
});

// The logger masks secrets itself (whatever the caller logs) and stamps the run id on every line of a run.
import { describe, expect, it } from 'vitest';
import { childLogger, createLogger, logRedactor } from '../../src/observability/logger.js';
import { Redactor } from '../../src/util/redact.js';

function capture() {
  const lines: string[] = [];
  return {
    lines,
    parsed: () => lines.flatMap((chunk) => chunk.split('\n').filter(Boolean)).map((l): unknown => JSON.parse(l)),
    destination: { write: (s: string) => void lines.push(s) },
  };
}

const PEM = [
  '-----BEGIN RSA PRIVATE KEY-----',
  'MIIEowIBAAKCAQEA1c7+9z5Pad7OejecsQ0bu3aozN3tihPmljnnudb9G3HecdLH',
  'pQvxU1b6gWk6xH0fRkDmRkWqyZqzXk1oCIpmnEB9nWnXH2v2rGzJw7y0E9Ww0Q==',
  '-----END RSA PRIVATE KEY-----',
].join('\n');

describe('logger', () => {
  it('masks a private key in the message, a token in a field, a known secret anywhere, and keeps JSON valid', () => {
    const out = capture();
    const redactor = new Redactor().add('my-webhook-secret-42');
    const log = createLogger({ destination: out.destination, redactor, level: 'debug' });
    log.info(`loaded key ${PEM}`);
    log.warn({ token: 'ghp_abcdefghijklmnopqrstuvwxyz0123456789', note: 'my-webhook-secret-42 leaked' }, 'field');
    log.error({ err: new Error('auth failed with my-webhook-secret-42') }, 'with error');
    log.debug({ nested: { url: 'postgres://app:s3cr3tpass@db:5432/x' } }, 'url');
    const text = out.lines.join('');
    expect(text).not.toContain('MIIEowIBAAKCAQEA');
    expect(text).not.toContain('ghp_abcdefghijklmnopqrstuvwxyz0123456789');
    expect(text).not.toContain('my-webhook-secret-42');
    expect(text).not.toContain('s3cr3tpass');
    const lines = out.parsed();
    expect(lines).toHaveLength(4);
    expect(lines[0]).toMatchObject({ level: 'info', msg: 'loaded key [REDACTED]', app: 'infra-agent' });
    expect(lines[1]).toMatchObject({ token: '[REDACTED]', note: '[REDACTED] leaked' });
    expect(JSON.stringify(lines[2])).toContain('auth failed with [REDACTED]');
  });

  it('masks a secret from the environment even with characters JSON escapes (newline, quote)', () => {
    const secret = 'line-one"quoted\nline-two-secret';
    const out = capture();
    const log = createLogger({ destination: out.destination, redactor: logRedactor({ WEBHOOK_SECRET: secret }) });
    log.info({ value: secret }, `message ${secret}`);
    const text = out.lines.join('');
    expect(text).not.toContain('line-two-secret');
    expect(out.parsed()[0]).toMatchObject({ value: '[REDACTED]', msg: 'message [REDACTED]' });
  });

  it('puts the run id on every line of a run logger and its children', () => {
    const out = capture();
    const parent = createLogger({ destination: out.destination, redactor: new Redactor() });
    const log = childLogger('run-123', { kind: 'plan', key: 'acme/infra#12' }, parent);
    log.info('one');
    log.child({ stage: 'init' }).warn({ durationMs: 5 }, 'two');
    log.error(new Error('three'));
    parent.info('not a run line');
    const lines = out.parsed();
    expect(lines).toHaveLength(4);
    for (const line of lines.slice(0, 3)) expect(line).toMatchObject({ runId: 'run-123', kind: 'plan' });
    expect(lines[1]).toMatchObject({ stage: 'init', durationMs: 5 });
    expect(lines[3]).not.toHaveProperty('runId');
  });
});

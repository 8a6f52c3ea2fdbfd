import { describe, expect, it } from 'vitest';
import { processRedactor, Redactor } from '../../src/util/redact.js';

describe('Redactor', () => {
  it('masks exact known values and well-known credential formats', () => {
    const r = new Redactor().add('hunter2-very-secret');
    const text = [
      'db password is hunter2-very-secret',
      'token ghp_abcdefghijklmnopqrstuvwxyz0123456789',
      'key AKIAIOSFODNN7EXAMPLE',
      'aws_secret_access_key = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"',
      'url postgres://admin:s3cr3tpass@db.internal:5432/app',
      'password = "SuperSecret123"',
      'anthropic sk-ant-api03-abcdefghijklmnopqrstuvwxyz',
    ].join('\n');
    const out = r.redact(text);
    for (const leaked of [
      'hunter2-very-secret',
      'ghp_abc',
      'AKIAIOSFODNN7EXAMPLE',
      'wJalrXUtnFEMI',
      's3cr3tpass',
      'SuperSecret123',
      'sk-ant-api03',
    ]) {
      expect(out).not.toContain(leaked);
    }
    expect(out).toContain('postgres://admin:[REDACTED]@db.internal');
    expect(out).toContain('password = "[REDACTED]"');
  });

  it('leaves references and ordinary text alone', () => {
    const r = new Redactor();
    expect(r.redact('password = var.db_password')).toBe('password = var.db_password');
    expect(r.redact('password = "${var.x}"')).toBe('password = "${var.x}"');
    expect(r.redact('aws_instance.web will be created')).toBe('aws_instance.web will be created');
  });

  it('knows the process secrets from the environment', () => {
    const r = processRedactor({ WEBHOOK_SECRET: 'whsec-1234567', DATABASE_URL: 'postgres://u:dbpass99@h/db' });
    expect(r.redact('x whsec-1234567 y dbpass99')).toBe('x [REDACTED] y [REDACTED]');
  });
});

// The App's secrets leave its environment at start and are masked in every encoded form.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { protectedPathList } from '../../src/sandbox/policy.js';
import { APP_SECRET_ENV, takeAppSecrets } from '../../src/sandbox/secrets.js';
import { encodedForms, redact } from '../../src/util/redact.js';

const dir = mkdtempSync(join(tmpdir(), 'secrets-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('takeAppSecrets', () => {
  it('reads each secret once, removes it from the environment, protects the key file and masks every form', () => {
    const keyPath = join(dir, 'key.pem');
    writeFileSync(keyPath, 'KEY-MATERIAL-0123456789');
    const env: NodeJS.ProcessEnv = {
      PRIVATE_KEY_PATH: keyPath,
      WEBHOOK_SECRET: 'webhook-secret-abcdef',
      ANTHROPIC_API_KEY: 'model-key-abcdef-0001',
      DATABASE_URL: 'postgres://app:db-password-xyz@db/infra',
      INFRA_AGENT_PLAN_KEY: 'plan-key-material-0002',
      INFRA_AGENT_DATA_DIR: join(dir, 'data'),
      PATH: '/usr/bin',
    };
    const secrets = takeAppSecrets(env);
    expect(secrets).toEqual({
      privateKey: 'KEY-MATERIAL-0123456789',
      webhookSecret: 'webhook-secret-abcdef',
      anthropicApiKey: 'model-key-abcdef-0001',
      databaseUrl: 'postgres://app:db-password-xyz@db/infra',
      planKey: 'plan-key-material-0002',
    });
    for (const name of APP_SECRET_ENV) expect(env[name]).toBeUndefined();
    expect(env['PATH']).toBe('/usr/bin');
    expect(protectedPathList()).toEqual(expect.arrayContaining([keyPath, join(dir, 'data')]));
    // Inside a longer base64 text, at any alignment, as hex: masked.
    for (const v of ['webhook-secret-abcdef', 'db-password-xyz', 'KEY-MATERIAL-0123456789']) {
      for (const prefix of ['', 'a', 'ab']) {
        const b64 = Buffer.from(`${prefix}${v}|tail`).toString('base64');
        expect(redact(`out = "${b64}"`)).not.toContain(b64.slice(4, 20));
      }
      expect(redact(Buffer.from(v).toString('hex'))).toBe('[REDACTED]');
    }
  });

  it('encodedForms covers raw, hex and the three base64 alignments', () => {
    const forms = encodedForms('secret-value');
    expect(forms).toContain('secret-value');
    expect(forms).toContain(Buffer.from('secret-value').toString('hex'));
    for (const prefix of ['', 'x', 'xy']) {
      const b64 = Buffer.from(`${prefix}secret-value`).toString('base64');
      expect(forms.some((f) => b64.includes(f))).toBe(true);
    }
  });
});

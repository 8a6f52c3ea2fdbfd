// The App's own secrets, read once at start and taken out of the process environment. A child gets an allow-listed
// environment anyway (sandbox/exec), but a secret left in process.env is one `/proc/<pid>/environ` read away from any
// code that can see the App's /proc; after this, the environment holds none. Each value is registered with the
// redactor (raw, hex and base64 forms) first, and the key file and data dir are marked as never to be bound into a
// sandbox.
import { readFileSync } from 'node:fs';
import { registerSecret } from '../util/redact.js';
import { protectPath } from './policy.js';

/** Environment variables that hold the App's credentials; all are removed from process.env by takeAppSecrets. */
export const APP_SECRET_ENV = [
  'PRIVATE_KEY',
  'PRIVATE_KEY_PATH',
  'WEBHOOK_SECRET',
  'ANTHROPIC_API_KEY',
  'ANTHROPIC_AUTH_TOKEN',
  'DATABASE_URL',
  'INFRA_AGENT_PLAN_KEY',
  'GITHUB_TOKEN',
  'GH_TOKEN',
  'GITHUB_CLIENT_SECRET',
] as const;

export interface AppSecrets {
  privateKey?: string;
  webhookSecret?: string;
  anthropicApiKey?: string;
  anthropicAuthToken?: string;
  databaseUrl?: string;
  planKey?: string;
}

export function takeAppSecrets(env: NodeJS.ProcessEnv = process.env): AppSecrets {
  const keyPath = env['PRIVATE_KEY_PATH'];
  const secrets: AppSecrets = {};
  const set = (key: keyof AppSecrets, value: string | undefined) => {
    if (value) secrets[key] = value;
  };
  set('privateKey', env['PRIVATE_KEY'] ?? (keyPath ? readFileSync(keyPath, 'utf8') : undefined));
  set('webhookSecret', env['WEBHOOK_SECRET']);
  set('anthropicApiKey', env['ANTHROPIC_API_KEY']);
  set('anthropicAuthToken', env['ANTHROPIC_AUTH_TOKEN']);
  set('databaseUrl', env['DATABASE_URL']);
  set('planKey', env['INFRA_AGENT_PLAN_KEY']);
  for (const value of [...Object.values(secrets), env['GITHUB_TOKEN'], env['GH_TOKEN'], env['GITHUB_CLIENT_SECRET']])
    registerSecret(value);
  if (secrets.databaseUrl) {
    try {
      registerSecret(decodeURIComponent(new URL(secrets.databaseUrl).password));
    } catch {
      // not a URL: registered whole above
    }
  }
  protectPath(keyPath);
  protectPath(env['INFRA_AGENT_DATA_DIR'] ?? '.data');
  for (const name of APP_SECRET_ENV) delete env[name];
  return secrets;
}

// SEC-SECRET-001, the literal half: a credential written into the code. Two tests, on every literal string of every
// block (resources, data sources, module calls, provider blocks, locals, variable defaults, outputs) and of every
// variables file (`*.tfvars`, `*.tfvars.json`):
// - by name: the attribute, map key, local, variable or output is named like a secret (password, admin_password,
//   administrator_login_password, client_secret, api_key, access_key, private_key, token, …);
// - by shape: the value is in a known credential format (Stripe live keys, Slack webhook URLs, AWS key ids, GitHub
//   tokens, PEM private keys, …) whatever it is called.
// References (`var.x`, `random_password.db.result`, `data.aws_secretsmanager_secret_version.x.secret_string`) are not
// literals and never fire. The literal values found are handed back so the plan rendering can mask them.
import type { Finding } from '../../core/types.js';
import { findLine } from '../../repo/hcl.js';
import { findSecretFormats } from '../../util/secret-formats.js';
import { makeFinding } from '../findings.js';
import type { TreeFile, TreeModule } from '../module-tree.js';
import { addressOf, attributeLine, eachBlock, lineOf, literalString, nodeOf, stringsIn } from './blocks.js';

/** Words that, as the last word of a name, make it a secret's name. */
const SECRET_WORDS = new Set([
  'password',
  'passwd',
  'passphrase',
  'pwd',
  'secret',
  'token',
  'apikey',
  'credential',
  'credentials',
  'privatekey',
  'secretkey',
  'accesskey',
  'clientsecret',
  'authtoken',
]);
/** Two-word endings that are secrets (`api_key`, `client_secret`, `secret_string`, `connection_string`…). */
const SECRET_PAIRS = new Set([
  'api key',
  'access key',
  'secret key',
  'private key',
  'client secret',
  'secret string',
  'secret value',
  'password value',
  'connection string',
  'account key',
  'master key',
  'shared key',
  'signing key',
  'sas token',
  'webhook url',
  'auth key',
]);

/** Words of an identifier: `administrator_login_password` → administrator, login, password; `apiKey` → api, key. */
function words(name: string): string[] {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter(Boolean);
}

export function isSecretName(name: string): boolean {
  const w = words(name);
  const last = w[w.length - 1];
  if (!last) return false;
  if (SECRET_WORDS.has(last)) return true;
  return w.length >= 2 && SECRET_PAIRS.has(`${w[w.length - 2]} ${last}`);
}

/** Literal values that are obviously not secrets even under a secret's name. */
function placeholder(value: string): boolean {
  return value.trim().length < 4 || /^(?:true|false|null|none|n\/a|-+|\*+|x+)$/i.test(value.trim());
}

export interface SecretHit {
  finding: Finding;
  value: string;
}

/** What a secret looks like in a message: its name, never its value. */
function describe(path: string[]): string {
  return path.filter((p) => p !== '').join('.') || 'a value';
}

function judge(path: string[], value: string): { label: string; secret: string }[] {
  const out: { label: string; secret: string }[] = [];
  for (const hit of findSecretFormats(value)) out.push({ label: hit.format.label, secret: hit.value });
  const name = path[path.length - 1] ?? '';
  if (out.length === 0 && name && isSecretName(name) && !placeholder(value))
    out.push({ label: 'a literal secret', secret: value });
  // *_base64 values (user_data_base64…) hide what they hold: look inside.
  if (out.length === 0 && /base64$/i.test(name) && /^[A-Za-z0-9+/=\s]{16,}$/.test(value)) {
    const decoded = Buffer.from(value, 'base64').toString('utf8');
    for (const hit of findSecretFormats(decoded)) out.push({ label: `${hit.format.label} (base64)`, secret: value });
  }
  return out;
}

const REMEDIATION: Record<string, string> = {
  password:
    'Do not write passwords in code: let the service manage it (RDS `manage_master_user_password = true`, Azure SQL with Entra ID auth), or generate it with `random_password` and store it in AWS Secrets Manager / Azure Key Vault / Google Secret Manager; pass anything else in as a `sensitive` variable with no default.',
  provider:
    'Give providers their credentials from the environment (AWS_ACCESS_KEY_ID/…, ARM_CLIENT_SECRET, GOOGLE_CREDENTIALS) or a role/workload identity, never in the provider block.',
  default:
    'Keep secrets out of the code and out of variables files: read them from a secrets manager (AWS Secrets Manager / SSM Parameter Store, Azure Key Vault, Google Secret Manager) with a data source or an ephemeral value, or pass them as a `sensitive` variable with no default from the environment (TF_VAR_…). Rotate the exposed value: it is in the Git history.',
};

export function checkSecrets(mod: TreeModule, file: TreeFile): SecretHit[] {
  const out: SecretHit[] = [];
  const seen = new Set<string>();
  const add = (address: string | undefined, line: number | undefined, what: string, secret: string, rem: string) => {
    const key = `${address}\u0000${line}\u0000${what}`;
    if (seen.has(key)) return;
    seen.add(key);
    out.push({
      value: secret,
      finding: makeFinding({
        ruleId: 'SEC-SECRET-001',
        source: 'pregate',
        address,
        file: file.rel,
        line,
        message: what,
        remediation: rem,
      }),
    });
  };

  for (const ref of eachBlock(file.parsed.body)) {
    if (ref.kind === 'check') continue;
    const node = nodeOf(file, ref);
    const address = addressOf(mod, ref);
    // A variable's or output's own name counts for its literal default / value.
    const ownName = ref.kind === 'variable' || ref.kind === 'output' ? (ref.labels[0] ?? '') : '';
    const scan =
      ref.kind === 'variable'
        ? { default: ref.body['default'] }
        : ref.kind === 'output'
          ? { value: ref.body['value'] }
          : ref.body;
    for (const { path, value } of stringsIn(scan)) {
      const literal = literalString(value);
      if (literal === undefined) continue;
      const named = ownName && path.length === 1 ? [ownName] : path;
      for (const hit of judge(named, literal)) {
        const attr = path[path.length - 1] ?? '';
        const where = ref.kind === 'locals' ? `${mod.prefix}local.${attr}` : address;
        const what =
          ref.kind === 'provider'
            ? `provider "${ref.labels[0]}" has ${hit.label} in \`${describe(path)}\``
            : ref.kind === 'locals'
              ? `local \`${attr}\` holds ${hit.label}`
              : ref.kind === 'variable'
                ? `variable "${ownName}" has ${hit.label} as its default${path.length > 1 ? ` (\`${describe(path.slice(1))}\`)` : ''}`
                : `\`${describe(path)}\` is ${hit.label}`;
        const firstLine = hit.secret.split('\n')[0]?.slice(0, 40) ?? '';
        const line =
          lineOf(file, node, firstLine) ?? (attr ? attributeLine(file, node, attr) : undefined) ?? node?.line;
        const rem =
          ref.kind === 'provider'
            ? REMEDIATION['provider']
            : /password|passwd|pwd/i.test(attr || ownName)
              ? REMEDIATION['password']
              : REMEDIATION['default'];
        add(where, line, what, hit.secret, rem ?? '');
      }
    }
  }
  return out;
}

/** Variables files: every assignment is a variable value terraform will use. */
export function checkVarFile(mod: TreeModule, file: TreeFile): SecretHit[] {
  const out: SecretHit[] = [];
  for (const [name, v] of Object.entries(file.parsed.body)) {
    for (const { path, value } of stringsIn(v, [name])) {
      const literal = literalString(value);
      if (literal === undefined) continue;
      for (const hit of judge(path, literal)) {
        const escaped = name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
        const line =
          findLine(file.parsed.source, (t) => t.includes(hit.secret.split('\n')[0]?.slice(0, 40) ?? '\u0000')) ??
          findLine(file.parsed.source, (t) => new RegExp(`^\\s*"?${escaped}"?\\s*[=:]`).test(t));
        out.push({
          value: hit.secret,
          finding: makeFinding({
            ruleId: 'SEC-SECRET-001',
            source: 'pregate',
            address: `${mod.prefix}var.${name}`,
            file: file.rel,
            line,
            message: `${file.rel.split('/').pop()} sets \`${describe(path)}\` to ${hit.label}`,
            remediation: REMEDIATION['default'],
          }),
        });
      }
    }
  }
  return out;
}

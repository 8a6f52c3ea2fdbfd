// Redaction of secrets on the way out: into PR comments, check runs, logs and model prompts. Two layers: the exact
// values of secrets this process knows (its own credentials, sensitive plan values), and patterns for well-known
// credential formats that may appear in repo files, plan output or model output.
import { SECRET_FORMATS } from './secret-formats.js';

const PATTERNS: { name: string; re: RegExp; keep?: number }[] = [
  // The formats the pre-plan guard calls secrets (Stripe, Slack webhooks, PEM keys, cloud and SaaS tokens…).
  ...SECRET_FORMATS.map((f) => ({ name: f.id, re: f.re })),
  {
    name: 'aws-secret-access-key',
    re: /((?:aws_secret_access_key|secret_key|secretAccessKey|SecretAccessKey)["']?\s*[:=]\s*["']?)[A-Za-z0-9/+=]{40}\b/g,
    keep: 1,
  },
  // user:password@ in URLs (database URLs, git remotes with tokens)
  { name: 'url-credentials', re: /(\b[a-z][a-z0-9+.-]*:\/\/[^\s:/@]+:)[^\s@/]+(@)/gi, keep: 2 },
  // password = "literal" / "password": "literal" in HCL, JSON, YAML
  {
    name: 'password-assignment',
    re: /((?:password|passwd|secret|token|api_key|apikey|access_key|secret_key)["']?\s*[:=]\s*["'])(?!\$\{)[^"'\s]{4,}(["'])/gi,
    keep: 2,
  },
];

const MASK = '[REDACTED]';
const MIN_KNOWN_SECRET = 6;

export class Redactor {
  private readonly known = new Set<string>();

  /** Remember an exact value (e.g. our own private key, a sensitive plan value) so it is masked wherever it shows. */
  add(value: string | undefined | null): this {
    if (typeof value !== 'string') return this;
    const v = value.trim();
    if (v.length >= MIN_KNOWN_SECRET) this.known.add(v);
    return this;
  }

  redact(text: string): string {
    let out = text;
    // Longest first, so a secret that contains another is masked whole.
    for (const secret of [...this.known].sort((a, b) => b.length - a.length)) {
      out = out.split(secret).join(MASK);
    }
    for (const { re, keep } of PATTERNS) {
      out = out.replace(re, (...m: string[]) => {
        if (!keep) return MASK;
        // keep = number of capture groups around the secret: 1 → prefix only; 2 → prefix and suffix
        return keep === 1 ? `${m[1]}${MASK}` : `${m[1]}${MASK}${m[2]}`;
      });
    }
    return out;
  }
}

/** Secrets of this process, read from the environment once; used by the logger and every renderer. */
export function processRedactor(env: NodeJS.ProcessEnv = process.env): Redactor {
  const r = new Redactor();
  for (const name of ['PRIVATE_KEY', 'WEBHOOK_SECRET', 'ANTHROPIC_API_KEY', 'GITHUB_TOKEN', 'INFRA_AGENT_PLAN_KEY']) {
    r.add(env[name]);
  }
  const db = env['DATABASE_URL'];
  if (db) {
    try {
      r.add(decodeURIComponent(new URL(db).password));
    } catch {
      r.add(db);
    }
  }
  return r;
}

let shared: Redactor | undefined;
export function redact(text: string): string {
  shared ??= processRedactor();
  return shared.redact(text);
}

/**
 * The forms a value takes when code that can read it re-encodes it inside a larger text: itself, its hex (both
 * cases), and its base64 at each of the three alignments it can have inside a longer base64 string (the characters
 * that depend only on the value's own bytes).
 */
export function encodedForms(value: string): string[] {
  const bytes = Buffer.from(value, 'utf8');
  const forms = new Set<string>([value, bytes.toString('hex'), bytes.toString('hex').toUpperCase()]);
  for (let offset = 0; offset < 3; offset++) {
    const b64 = Buffer.concat([Buffer.alloc(offset), bytes]).toString('base64');
    const first = Math.ceil((offset * 8) / 6);
    const last = Math.floor(((offset + bytes.length) * 8) / 6); // exclusive: chars wholly inside the value
    const part = b64.slice(first, last);
    if (part.length >= MIN_KNOWN_SECRET) forms.add(part);
  }
  return [...forms];
}

/**
 * Remembers a secret for every redact() from now on, in its encoded forms too (the App's own credentials before
 * they leave process.env, provider credentials handed to terraform).
 */
export function registerSecret(value: string | undefined | null): void {
  if (typeof value !== 'string' || value.trim().length < MIN_KNOWN_SECRET) return;
  shared ??= processRedactor();
  for (const form of encodedForms(value.trim())) shared.add(form);
}

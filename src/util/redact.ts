// Redaction of secrets on the way out: into PR comments, check runs, logs and model prompts. Two layers: the exact
// values of secrets this process knows (its own credentials, sensitive plan values), and patterns for well-known
// credential formats that may appear in repo files, plan output or model output.

const PATTERNS: { name: string; re: RegExp; keep?: number }[] = [
  { name: 'private-key', re: /-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----/g },
  { name: 'github-token', re: /\b(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{40,})\b/g },
  { name: 'anthropic-key', re: /\bsk-ant-[A-Za-z0-9_-]{20,}\b/g },
  { name: 'aws-access-key-id', re: /\b(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA)[A-Z0-9]{16}\b/g },
  {
    name: 'aws-secret-access-key',
    re: /((?:aws_secret_access_key|secret_key|secretAccessKey|SecretAccessKey)["']?\s*[:=]\s*["']?)[A-Za-z0-9/+=]{40}\b/g,
    keep: 1,
  },
  { name: 'slack-token', re: /\bxox[abposr]-[A-Za-z0-9-]{10,}\b/g },
  { name: 'jwt', re: /\beyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\b/g },
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

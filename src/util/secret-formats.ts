// Well-known credential formats: a value in one of these shapes is a secret whatever the attribute holding it is
// called. Shared by the pre-plan guard (SEC-SECRET-001 on literals in code) and the redactor (masking in anything
// posted or logged), so what the gate calls a secret is also what never reaches GitHub.

export interface SecretFormat {
  /** Short id, also used by the redactor. */
  id: string;
  /** What a human calls it, for finding messages. */
  label: string;
  /** Global regex; the whole match is the secret. */
  re: RegExp;
}

export const SECRET_FORMATS: readonly SecretFormat[] = [
  {
    id: 'private-key',
    label: 'a PEM private key',
    re: /-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z0-9 ]*PRIVATE KEY-----/g,
  },
  {
    id: 'github-token',
    label: 'a GitHub token',
    re: /\b(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{40,})\b/g,
  },
  { id: 'anthropic-key', label: 'an Anthropic API key', re: /\bsk-ant-[A-Za-z0-9_-]{20,}\b/g },
  { id: 'openai-key', label: 'an OpenAI API key', re: /\bsk-(?:proj|svcacct|admin)-[A-Za-z0-9_-]{20,}\b/g },
  { id: 'aws-access-key-id', label: 'an AWS access key id', re: /\b(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA)[A-Z0-9]{16}\b/g },
  { id: 'stripe-key', label: 'a Stripe live key', re: /\b(?:sk|rk)_live_[A-Za-z0-9]{16,}\b/g },
  {
    id: 'slack-webhook',
    label: 'a Slack webhook URL',
    re: /https:\/\/hooks\.slack(?:-gov)?\.com\/(?:services|workflows|triggers)\/[A-Za-z0-9_/-]{20,}/g,
  },
  { id: 'slack-token', label: 'a Slack token', re: /\bxox[abposre]-[A-Za-z0-9-]{10,}\b/g },
  { id: 'google-api-key', label: 'a Google API key', re: /\bAIza[0-9A-Za-z_-]{35}\b/g },
  { id: 'sendgrid-key', label: 'a SendGrid API key', re: /\bSG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}\b/g },
  { id: 'npm-token', label: 'an npm token', re: /\bnpm_[A-Za-z0-9]{36}\b/g },
  { id: 'gitlab-token', label: 'a GitLab token', re: /\bglpat-[A-Za-z0-9_-]{20,}\b/g },
  {
    id: 'azure-storage-key',
    label: 'an Azure storage account key',
    re: /AccountKey=[A-Za-z0-9+/]{86}==/g,
  },
  { id: 'jwt', label: 'a JSON Web Token', re: /\beyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\b/g },
];

/** Every known-format secret in a text, with the format it matched. */
export function findSecretFormats(text: string): { format: SecretFormat; value: string }[] {
  const out: { format: SecretFormat; value: string }[] = [];
  for (const format of SECRET_FORMATS) {
    for (const m of text.matchAll(format.re)) out.push({ format, value: m[0] });
  }
  return out;
}

// Loading `.github/infra-agent.yml`: only ever from the repository's DEFAULT branch (a PR must not be able to change
// the rules it is judged by), parsed as YAML, validated by RepoConfigSchema. Every problem becomes one line naming the
// key path and why, so the same text can go into an issue comment and a failing check run.
import { parse as parseYaml, YAMLParseError } from 'yaml';
import { z } from 'zod';
import { type GitHubClient, httpStatus, type RepoRef } from '../core/github.js';
import { type RepoConfig, RepoConfigSchema } from './schema.js';

export const CONFIG_PATH = '.github/infra-agent.yml';
/** A config file bigger than this is refused rather than parsed (YAML bombs, accidents). */
const MAX_CONFIG_BYTES = 256 * 1024;

export type ConfigSource = 'file' | 'default';

export type ConfigResult =
  | { ok: true; config: RepoConfig; source: ConfigSource }
  | { ok: false; problems: string[]; message: string };

function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out ? `.${String(part)}` : String(part);
  }
  return out || '(top level)';
}

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let cur: unknown = input;
  for (const key of path) {
    if (typeof cur !== 'object' || cur === null) return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[key];
  }
  return cur;
}

function describeValue(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** One line per zod issue: `key.path: why`. Written for a human who edits YAML, not for a TypeScript developer. */
export function describeConfigIssues(error: z.ZodError, input?: unknown): string[] {
  const lines: string[] = [];
  for (const issue of error.issues) {
    const where = formatPath(issue.path);
    switch (issue.code) {
      case 'invalid_value':
        lines.push(
          issue.values.length === 1
            ? `${where}: must be ${describeValue(issue.values[0])}`
            : `${where}: expected one of ${issue.values.map(describeValue).join('|')}`,
        );
        break;
      case 'unrecognized_keys':
        for (const key of issue.keys) lines.push(`${formatPath([...issue.path, key])}: unknown key`);
        break;
      case 'invalid_type':
        lines.push(
          `${where}: ${valueAt(input, issue.path) === undefined ? 'required, ' : ''}expected ${issue.expected}`,
        );
        break;
      case 'too_small':
        lines.push(
          `${where}: must be at least ${String(issue.minimum)}${issue.origin === 'string' ? ' characters' : ''}`,
        );
        break;
      case 'too_big':
        lines.push(
          `${where}: must be at most ${String(issue.maximum)}${issue.origin === 'string' ? ' characters' : ''}`,
        );
        break;
      case 'invalid_format':
        lines.push(`${where}: ${issue.message}`);
        break;
      default:
        lines.push(`${where}: ${issue.message}`);
    }
  }
  return lines;
}

function failure(problems: string[]): ConfigResult {
  const message =
    problems.length === 1
      ? `\`${CONFIG_PATH}\`: ${problems[0]}`
      : `\`${CONFIG_PATH}\` is invalid:\n${problems.map((p) => `- ${p}`).join('\n')}`;
  return { ok: false, problems, message };
}

/** Parse and validate the text of the config file. Empty file → defaults. */
export function parseRepoConfig(text: string): ConfigResult {
  if (Buffer.byteLength(text, 'utf8') > MAX_CONFIG_BYTES) {
    return failure([`the file is larger than ${MAX_CONFIG_BYTES / 1024} KiB`]);
  }
  let data: unknown;
  try {
    data = parseYaml(text, { maxAliasCount: 100, prettyErrors: true });
  } catch (err) {
    const why = err instanceof YAMLParseError ? err.message.split('\n')[0] : String(err);
    return failure([`not valid YAML: ${why}`]);
  }
  if (data === null || data === undefined) data = {};
  const parsed = RepoConfigSchema.safeParse(data);
  if (!parsed.success) return failure(describeConfigIssues(parsed.error, data));
  return { ok: true, config: parsed.data, source: 'file' };
}

const ContentFile = z.object({
  type: z.literal('file'),
  encoding: z.string(),
  content: z.string(),
});

/**
 * Read the config from `ref` (the default branch: callers pass `repository.default_branch` from the payload).
 * A missing file gives the defaults; any other API failure throws (the caller reports it as an error, never as
 * "defaults", so a transient 5xx cannot silently relax a repo's policy).
 */
export async function loadRepoConfig(octokit: GitHubClient, repo: RepoRef, ref: string): Promise<ConfigResult> {
  let data: unknown;
  try {
    const res = await octokit.rest.repos.getContent({ owner: repo.owner, repo: repo.repo, path: CONFIG_PATH, ref });
    data = res.data;
  } catch (err) {
    if (httpStatus(err) === 404) return { ok: true, config: RepoConfigSchema.parse({}), source: 'default' };
    throw err;
  }
  const file = ContentFile.safeParse(data);
  if (!file.success) return failure(['is not a regular file']);
  if (file.data.encoding !== 'base64') return failure([`unexpected content encoding ${file.data.encoding}`]);
  const result = parseRepoConfig(Buffer.from(file.data.content, 'base64').toString('utf8'));
  return result;
}

// Which Terraform project a run works on: the configured `projects`, else the root modules the index found. One
// candidate → it. Several → the one the request names (`/infra plan <name>`, or the issue text mentioning exactly one
// project name or dir); else the run stops and asks. None → there is no Terraform here, and the run says so.
import type { RepoConfig } from '../config/schema.js';
import type { Project } from '../core/types.js';

export type ProjectChoice =
  | { kind: 'one'; project: Project }
  | { kind: 'none' }
  | { kind: 'ambiguous'; candidates: Project[] }
  | { kind: 'unknown'; name: string; candidates: Project[] };

export function candidateProjects(config: RepoConfig, rootModules: string[]): Project[] {
  if (config.projects.length > 0) {
    return config.projects.map((p) => ({
      name: p.name ?? p.dir,
      dir: p.dir.replace(/\/+$/, '') || '.',
      workspace: p.workspace,
      dependsOn: p.depends_on,
    }));
  }
  return rootModules.map((dir) => ({ name: dir, dir, workspace: 'default', dependsOn: [] }));
}

function mentions(text: string, p: Project): boolean {
  const words = new Set([p.name, p.dir].filter((w) => w !== '.' && w.length > 1));
  for (const w of words) {
    const escaped = w.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    if (new RegExp(`(^|[\\s\`'"(/])${escaped}($|[\\s\`'",.:;)/])`, 'i').test(text)) return true;
  }
  return false;
}

export function chooseProject(candidates: Project[], opts: { named?: string; requestText?: string }): ProjectChoice {
  if (candidates.length === 0) return { kind: 'none' };
  if (opts.named !== undefined) {
    const hit = candidates.find((p) => p.name === opts.named || p.dir === opts.named);
    return hit ? { kind: 'one', project: hit } : { kind: 'unknown', name: opts.named, candidates };
  }
  const [only] = candidates;
  if (candidates.length === 1 && only) return { kind: 'one', project: only };
  const text = opts.requestText ?? '';
  const named = candidates.filter((p) => mentions(text, p));
  const [hit] = named;
  if (named.length === 1 && hit) return { kind: 'one', project: hit };
  return { kind: 'ambiguous', candidates };
}

export function describeCandidates(candidates: Project[]): string {
  return candidates.map((p) => `- \`${p.name}\`${p.name !== p.dir ? ` (\`${p.dir}\`)` : ''}`).join('\n');
}

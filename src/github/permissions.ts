// Who may start runs and use commands: the collaborator permission API, compared on GitHub's role ladder
// (read < triage < write < maintain < admin). Custom repository roles report their base role in `permission`.
import { z } from 'zod';
import type { GitHubClient, RepoRef } from '../core/github.js';
import { PERMISSIONS } from '../core/github.js';

export type Permission = (typeof PERMISSIONS)[number];

const PermissionResponse = z.object({
  permission: z.string(),
  role_name: z.string().optional(),
});

function rank(p: string): number {
  return (PERMISSIONS as readonly string[]).indexOf(p);
}

export interface PermissionCheck {
  allowed: boolean;
  /** What the person has: a role name, or 'none'. */
  actual: string;
}

export async function checkPermission(
  octokit: GitHubClient,
  repo: RepoRef,
  login: string,
  required: Permission,
): Promise<PermissionCheck> {
  const res = await octokit.rest.repos.getCollaboratorPermissionLevel({ ...repo, username: login });
  const data = PermissionResponse.parse(res.data);
  // role_name distinguishes triage and maintain; `permission` folds them into read and write.
  const roleRank = data.role_name !== undefined ? rank(data.role_name) : -1;
  const actualRank = Math.max(roleRank, rank(data.permission));
  const actual = roleRank >= 0 ? (data.role_name ?? data.permission) : data.permission;
  return { allowed: actualRank >= rank(required), actual };
}

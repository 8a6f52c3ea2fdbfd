// The installation permission each REST operation needs, so an App whose manifest asks for too little fails in the
// stand-in as it would on GitHub.

type Need = [permission: string, level: string];

/**
 * The installation permission each operation needs (any one of the alternatives), so an App whose manifest asks for
 * too little fails here as it would on GitHub.
 */
export const REQUIRED_PERMISSIONS: Record<string, Need[]> = {
  'repos/get': [['metadata', 'read']],
  'repos/get-content': [['contents', 'read']],
  'repos/get-collaborator-permission-level': [['metadata', 'read']],
  'repos/list-branches': [['metadata', 'read']],
  'repos/get-branch': [['metadata', 'read']],
  'git/get-ref': [['contents', 'read']],
  'git/get-tree': [['contents', 'read']],
  'issues/get': [
    ['issues', 'read'],
    ['pull_requests', 'read'],
  ],
  'issues/list-comments': [
    ['issues', 'read'],
    ['pull_requests', 'read'],
  ],
  'issues/get-comment': [
    ['issues', 'read'],
    ['pull_requests', 'read'],
  ],
  'issues/list-labels-on-issue': [
    ['issues', 'read'],
    ['pull_requests', 'read'],
  ],
  'issues/get-label': [
    ['issues', 'read'],
    ['pull_requests', 'read'],
  ],
  'issues/list-labels-for-repo': [
    ['issues', 'read'],
    ['pull_requests', 'read'],
  ],
  'reactions/list-for-issue': [
    ['issues', 'read'],
    ['pull_requests', 'read'],
  ],
  'apps/list-repos-accessible-to-installation': [['metadata', 'read']],
  'issues/create': [['issues', 'write']],
  'issues/update': [
    ['issues', 'write'],
    ['pull_requests', 'write'],
  ],
  'issues/create-comment': [
    ['issues', 'write'],
    ['pull_requests', 'write'],
  ],
  'issues/update-comment': [
    ['issues', 'write'],
    ['pull_requests', 'write'],
  ],
  'issues/delete-comment': [
    ['issues', 'write'],
    ['pull_requests', 'write'],
  ],
  'reactions/create-for-issue': [
    ['issues', 'write'],
    ['pull_requests', 'write'],
  ],
  'reactions/create-for-issue-comment': [
    ['issues', 'write'],
    ['pull_requests', 'write'],
  ],
  'issues/add-labels': [
    ['issues', 'write'],
    ['pull_requests', 'write'],
  ],
  'issues/set-labels': [
    ['issues', 'write'],
    ['pull_requests', 'write'],
  ],
  'issues/remove-label': [
    ['issues', 'write'],
    ['pull_requests', 'write'],
  ],
  'issues/create-label': [
    ['issues', 'write'],
    ['pull_requests', 'write'],
  ],
  'pulls/create': [['pull_requests', 'write']],
  'pulls/update': [['pull_requests', 'write']],
  'pulls/get': [['pull_requests', 'read']],
  'pulls/list': [['pull_requests', 'read']],
  'pulls/list-files': [['pull_requests', 'read']],
  'pulls/list-reviews': [['pull_requests', 'read']],
  'pulls/list-commits': [['pull_requests', 'read']],
  'repos/get-commit': [['contents', 'read']],
  'pulls/check-if-merged': [['pull_requests', 'read']],
  'pulls/merge': [['contents', 'write']],
  'checks/create': [['checks', 'write']],
  'checks/update': [['checks', 'write']],
  'checks/get': [['checks', 'read']],
  'checks/list-for-ref': [['checks', 'read']],
  'teams/get-membership-for-user-in-org': [['members', 'read']],
  graphql: [
    ['issues', 'write'],
    ['pull_requests', 'write'],
  ],
};

const LEVELS: Record<string, number> = { read: 1, write: 2, admin: 3 };

export function permits(granted: Record<string, string>, needs: Need[]): boolean {
  return needs.some(([name, level]) => (LEVELS[granted[name] ?? ''] ?? 0) >= (LEVELS[level] ?? 99));
}

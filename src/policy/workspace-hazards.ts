// What the sandbox's clean step removed from a checkout (sandbox/clean.ts), as pre-plan findings: each hazard is a
// hard PRE-WORKSPACE-001 finding that says what was removed, why it is dangerous, and how to fix the repository.
import type { Finding } from '../core/types.js';
import { type HazardKind, WORKSPACE_RULE_ID, type WorkspaceHazard } from '../sandbox/clean.js';
import { makeFinding } from './findings.js';

const WHY: Record<HazardKind, string> = {
  'terraform-dir':
    'a committed `.terraform/` directory can run a provider binary, load modules from elsewhere or switch the workspace',
  state: 'a committed state file can hold secrets and other projects’ resources; state lives in the backend',
  'cli-config': 'a committed Terraform CLI config can carry credentials or swap provider binaries (dev_overrides)',
  symlink: 'a symlink that leaves the repository lets a tool read or write files outside it',
};

export function hazardFindings(hazards: readonly WorkspaceHazard[]): Finding[] {
  return hazards.map((h) =>
    makeFinding({
      ruleId: WORKSPACE_RULE_ID,
      source: 'pregate',
      severity: 'critical',
      level: 'hard',
      file: h.path,
      message: `\`${h.path}\`${h.kind === 'symlink' ? ` (a link to \`${h.target ?? '?'}\`)` : ''} was removed before anything ran: ${WHY[h.kind]}.`,
      remediation:
        h.kind === 'symlink'
          ? 'Replace the link with the file itself, or a link that stays inside the repository.'
          : 'Delete it from the repository (`git rm -r --cached`) and add it to `.gitignore`.',
    }),
  );
}

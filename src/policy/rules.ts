// The rule table: every rule of the default policy set (POLICIES.md) with its default level, severity and
// remediation, and the scanner-native ids that report the same concern. This is the one place that decides what a
// tfsec or checkov result means for the verdict; everything a scanner reports that is not here is advisory.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import type { Level, Severity } from '../core/types.js';
import { projectRoot } from '../toolchain/tools.js';

export interface RuleDef {
  id: string;
  title: string;
  level: Level;
  severity: Severity;
  remediation: string;
}

export const RULES: readonly RuleDef[] = [
  {
    id: 'PRE-EXEC-001',
    title: 'Code that runs on the plan/apply host',
    level: 'hard',
    severity: 'critical',
    remediation:
      'Remove `data "external"`, provisioners (local-exec, remote-exec, file: in resources, `removed` blocks and modules alike) and command-running providers; do the work in a CI step or a cloud service instead. Keep modules inside the repository. This rule cannot be overridden.',
  },
  {
    id: 'PRE-SOURCE-001',
    title: 'Module or provider from outside the allow-list, or a module not pinned exactly',
    level: 'soft',
    severity: 'high',
    remediation:
      'Pin registry modules to an exact `version` (e.g. "5.8.1", not "~> 5.0") and git modules to a tag or commit (`?ref=`). To allow a new source for good, add it on the default branch to `policy.allowed_module_sources` (a prefix) or `policy.allowed_providers` (`namespace/type` or `namespace/*`) in `.github/infra-agent.yml`; for this change only, a policy owner comments `/infra override PRE-SOURCE-001 <reason>`.',
  },
  {
    id: 'PRE-FILE-001',
    title: 'File read (or state read) outside the module',
    level: 'hard',
    severity: 'critical',
    remediation:
      'Read files only under the module: `file("${path.module}/files/x")`. Read other projects\' outputs from their remote backend, and secrets from a secrets manager, never from the plan host\'s disk.',
  },
  {
    id: 'PRE-SUPPRESS-001',
    title: 'A comment that silences a scanner',
    level: 'hard',
    severity: 'high',
    remediation:
      'Delete the `checkov:skip` / `tfsec:ignore` / `trivy:ignore` comment and fix the finding, or ask a policy owner to change the rule level in `.github/infra-agent.yml`.',
  },
  {
    id: 'PRE-WORKSPACE-001',
    title: 'Committed .terraform/, state, CLI config, or a symlink that leaves the repository',
    level: 'hard',
    severity: 'critical',
    remediation:
      'Remove committed `.terraform/` directories, `*.tfstate*` files and `.terraformrc`/`terraform.rc`/`*.tfrc` from the repository (and list them in `.gitignore`); replace symlinks that point outside the repository with the files themselves.',
  },
  {
    id: 'SEC-NET-001',
    title: 'SSH (22) open to the internet',
    level: 'hard',
    severity: 'critical',
    remediation:
      'Restrict port 22 to known address ranges (a bastion or VPN range), or use a managed session service instead of SSH.',
  },
  {
    id: 'SEC-NET-002',
    title: 'RDP (3389) or all ports open to the internet',
    level: 'hard',
    severity: 'critical',
    remediation:
      'Open only the ports the service needs, from known address ranges; never every port or protocol from the internet.',
  },
  {
    id: 'SEC-NET-003',
    title: 'Internet ingress on a port other than 80/443',
    level: 'soft',
    severity: 'high',
    remediation: 'Put the service behind a load balancer on 80/443, or restrict the source CIDRs.',
  },
  {
    id: 'SEC-IAM-001',
    title: 'Wildcard permissions: every action, or a primitive owner/editor role',
    level: 'hard',
    severity: 'critical',
    remediation: 'Grant the actions the principal needs instead of every action.',
  },
  {
    id: 'SEC-IAM-002',
    title: 'Administrator rights granted broadly',
    level: 'hard',
    severity: 'critical',
    remediation: 'Grant a least-privilege role instead of administrator rights.',
  },
  {
    id: 'SEC-IAM-003',
    title: 'Resource "*" on write actions or iam:PassRole',
    level: 'soft',
    severity: 'high',
    remediation: 'Scope `Resource` to the ARNs the actions need (for iam:PassRole, the exact role ARNs).',
  },
  {
    id: 'SEC-SECRET-001',
    title: 'Literal secret in code',
    level: 'hard',
    severity: 'critical',
    remediation:
      'Do not write secrets in code: use `manage_master_user_password = true` for RDS, AWS Secrets Manager / SSM Parameter Store for others (read with a data source or an ephemeral value), and provider credentials from the environment.',
  },
  {
    id: 'SEC-DATA-001',
    title: 'Database storage or connections not encrypted',
    level: 'soft',
    severity: 'high',
    remediation: 'Encrypt the database storage at rest and require TLS for connections.',
  },
  {
    id: 'SEC-DATA-002',
    title: 'Disk, search or cache store not encrypted',
    level: 'soft',
    severity: 'high',
    remediation: 'Enable encryption at rest and in transit for the store.',
  },
  {
    id: 'SEC-S3-001',
    title: 'Public object storage or dataset',
    level: 'hard',
    severity: 'critical',
    remediation: 'Keep the storage private and serve public content through a CDN with its own access identity.',
  },
  {
    id: 'SEC-S3-002',
    title: 'S3 public access not blocked, or a bucket policy open to Principal "*"',
    level: 'soft',
    severity: 'high',
    remediation:
      'Set all four `aws_s3_bucket_public_access_block` flags to true and name the principals in bucket policies.',
  },
  {
    id: 'SEC-DB-002',
    title: 'Database reachable from the internet',
    level: 'soft',
    severity: 'high',
    remediation: 'Turn off public access and reach the database from inside the private network.',
  },
  {
    id: 'SEC-K8S-001',
    title: 'Kubernetes control plane public to the internet, or secrets unencrypted',
    level: 'soft',
    severity: 'high',
    remediation:
      'Restrict the API server to known address ranges or make it private, and encrypt secrets with a KMS key.',
  },
  {
    id: 'GOV-REG-001',
    title: 'Region outside the allow-list',
    level: 'hard',
    severity: 'high',
    remediation: 'Deploy to one of the regions in `policy.allowed_regions` of `.github/infra-agent.yml`.',
  },
  {
    id: 'OPS-TAG-001',
    title: 'Required tags missing',
    level: 'advisory',
    severity: 'low',
    remediation: 'Add the required tags, or set them once in the provider `default_tags`.',
  },
  {
    id: 'COST-BUDGET-001',
    title: 'Monthly cost increase over the budget',
    level: 'soft',
    severity: 'medium',
    remediation:
      'Choose smaller or cheaper resources (instance sizes, Multi-AZ, node counts), or ask a policy owner to `/infra override COST-BUDGET-001 <reason>` if the increase is intended; budgets are `cost.max_monthly_increase_usd` in `.github/infra-agent.yml`.',
  },
  {
    id: 'OPS-DEL-001',
    title: 'Delete or replace of a stateful resource',
    level: 'soft',
    severity: 'high',
    remediation:
      'Make sure the data is backed up or migrated; add `lifecycle { prevent_destroy = true }` to resources that must never go, and avoid changes that force replacement.',
  },
];

const BY_ID = new Map(RULES.map((r) => [r.id, r]));

export function findRule(id: string): RuleDef | undefined {
  return BY_ID.get(id);
}

/**
 * How a scanner-native id relates to our rules.
 * - `direct`: the native check means exactly the rule (CKV_AWS_24 is port 22 from anywhere).
 * - `corroborate`: the native check is broader or narrower than any one rule (tfsec's "public ingress" does not say
 *   which port), so it joins a finding of one of `rules` on the same resource when there is one, and otherwise stays
 *   as its own advisory finding. It never raises a level on its own: "443 from the world" is not SSH.
 */
export interface ScannerMapping {
  rules: string[];
  mode: 'direct' | 'corroborate';
}

const direct = (rule: string): ScannerMapping => ({ rules: [rule], mode: 'direct' });
const corroborate = (...rules: string[]): ScannerMapping => ({ rules, mode: 'corroborate' });

/** checkov ids. checkov reports no severity offline, so the rule decides; unmapped ids are advisory. */
export const CHECKOV_MAP: Readonly<Record<string, ScannerMapping>> = {
  CKV_AWS_24: direct('SEC-NET-001'),
  CKV_AWS_25: direct('SEC-NET-002'),
  CKV_AWS_277: direct('SEC-NET-002'),
  // CKV_AWS_260 is "port 80 from 0.0.0.0/0"; SEC-NET-003 allows 80, so it may only agree, never decide.
  CKV_AWS_260: corroborate('SEC-NET-003'),
  CKV_AWS_62: direct('SEC-IAM-001'),
  CKV_AWS_63: direct('SEC-IAM-001'),
  CKV_AWS_274: direct('SEC-IAM-002'),
  CKV_AWS_355: corroborate('SEC-IAM-003', 'SEC-IAM-001'),
  CKV_AWS_356: corroborate('SEC-IAM-003'),
  CKV_AWS_286: corroborate('SEC-IAM-003', 'SEC-IAM-001'),
  CKV_AWS_41: direct('SEC-SECRET-001'),
  CKV_AWS_45: direct('SEC-SECRET-001'),
  CKV_AWS_46: direct('SEC-SECRET-001'),
  CKV_AWS_16: direct('SEC-DATA-001'),
  CKV_AWS_96: direct('SEC-DATA-001'),
  CKV_AWS_3: direct('SEC-DATA-002'),
  CKV_AWS_8: direct('SEC-DATA-002'),
  CKV_AWS_20: direct('SEC-S3-001'),
  CKV_AWS_53: direct('SEC-S3-002'),
  CKV_AWS_54: direct('SEC-S3-002'),
  CKV_AWS_55: direct('SEC-S3-002'),
  CKV_AWS_56: direct('SEC-S3-002'),
  CKV_AWS_70: direct('SEC-S3-002'),
  CKV_AWS_17: direct('SEC-DB-002'),
  CKV2_AWS_6: direct('SEC-S3-002'),
  CKV_AWS_44: direct('SEC-DATA-001'),
  CKV_AWS_74: direct('SEC-DATA-001'),
  CKV_AWS_5: direct('SEC-DATA-002'),
  CKV_AWS_38: direct('SEC-K8S-001'),
  CKV_AWS_58: direct('SEC-K8S-001'),
  // "public endpoint enabled" also fires when public_access_cidrs are restricted.
  CKV_AWS_39: corroborate('SEC-K8S-001'),
  // Azure
  CKV_AZURE_10: direct('SEC-NET-001'),
  CKV_AZURE_9: direct('SEC-NET-002'),
  CKV_AZURE_160: corroborate('SEC-NET-002', 'SEC-NET-003'),
  CKV_AZURE_34: direct('SEC-S3-001'),
  // "the container holding activity logs is not public" fires on every public container.
  CKV2_AZURE_8: corroborate('SEC-S3-001'),
  CKV_AZURE_190: direct('SEC-S3-001'),
  CKV2_AZURE_47: direct('SEC-S3-001'),
  // "disallow public access" covers network access too, which is not public data.
  CKV_AZURE_59: corroborate('SEC-S3-001'),
  CKV_AZURE_39: direct('SEC-IAM-001'),
  CKV_AZURE_113: direct('SEC-DB-002'),
  CKV_AZURE_11: direct('SEC-DB-002'),
  CKV_AZURE_6: corroborate('SEC-K8S-001'),
  CKV_AZURE_115: corroborate('SEC-K8S-001'),
  // Google Cloud
  CKV_GCP_2: direct('SEC-NET-001'),
  CKV_GCP_3: direct('SEC-NET-002'),
  CKV2_GCP_12: direct('SEC-NET-002'),
  CKV_GCP_28: direct('SEC-S3-001'),
  CKV_GCP_15: direct('SEC-S3-001'),
  CKV_GCP_100: direct('SEC-S3-001'),
  CKV_GCP_115: corroborate('SEC-IAM-001', 'SEC-IAM-002'),
  CKV_GCP_116: corroborate('SEC-IAM-001', 'SEC-IAM-002'),
  CKV_GCP_117: corroborate('SEC-IAM-001', 'SEC-IAM-002'),
  CKV_GCP_11: direct('SEC-DB-002'),
  CKV_GCP_6: corroborate('SEC-DATA-001'),
  CKV_GCP_18: corroborate('SEC-K8S-001'),
  CKV_GCP_20: corroborate('SEC-K8S-001'),
  CKV_GCP_25: corroborate('SEC-K8S-001'),
};

/** checkov SECRET ids (secrets framework) are all literal secrets. */
export function mapCheckovId(id: string): ScannerMapping | undefined {
  if (/^CKV_SECRET_\d+$/.test(id)) return direct('SEC-SECRET-001');
  return CHECKOV_MAP[id];
}

const SeverityTable = z.object({
  source: z.string(),
  checkov_version: z.string(),
  severities: z.record(z.string(), z.enum(['CRITICAL', 'HIGH', 'MEDIUM', 'LOW', 'INFO'])),
});

function loadCheckovSeverities(): Readonly<Record<string, Severity>> {
  const path = join(projectRoot(), 'policies', 'checkov-severity.json');
  const table = SeverityTable.parse(JSON.parse(readFileSync(path, 'utf8')));
  const out: Record<string, Severity> = {};
  for (const [id, sev] of Object.entries(table.severities))
    out[id] = sev === 'INFO' ? 'info' : (sev.toLowerCase() as Severity);
  return out;
}

/**
 * Severities of checkov's Terraform checks (checkov has none offline): policies/checkov-severity.json, our own
 * classification of the pinned checkov's check list, regenerated by scripts/checkov-severity.py.
 */
export const CHECKOV_SEVERITY: Readonly<Record<string, Severity>> = loadCheckovSeverities();

/** tfsec ids, by long id and by AVD id (tfsec reports both; older versions only the long one). */
const TFSEC_ENTRIES: [string, string, ScannerMapping][] = [
  ['aws-ec2-no-public-ingress-sgr', 'AVD-AWS-0107', corroborate('SEC-NET-001', 'SEC-NET-002', 'SEC-NET-003')],
  ['aws-vpc-no-public-ingress-sgr', 'AVD-AWS-0107', corroborate('SEC-NET-001', 'SEC-NET-002', 'SEC-NET-003')],
  ['aws-iam-no-policy-wildcards', 'AVD-AWS-0057', corroborate('SEC-IAM-001', 'SEC-IAM-003')],
  ['aws-ec2-no-secrets-in-user-data', 'AVD-AWS-0029', direct('SEC-SECRET-001')],
  ['aws-ec2-no-secrets-in-launch-template-user-data', 'AVD-AWS-0129', direct('SEC-SECRET-001')],
  ['general-secrets-no-plaintext-exposure', 'AVD-GEN-0004', direct('SEC-SECRET-001')],
  ['aws-rds-encrypt-instance-storage-data', 'AVD-AWS-0080', direct('SEC-DATA-001')],
  ['aws-rds-encrypt-cluster-storage-data', 'AVD-AWS-0079', direct('SEC-DATA-001')],
  ['aws-ec2-enable-volume-encryption', 'AVD-AWS-0026', direct('SEC-DATA-002')],
  ['aws-ec2-enable-at-rest-encryption', 'AVD-AWS-0131', direct('SEC-DATA-002')],
  ['aws-ec2-enable-launch-config-at-rest-encryption', 'AVD-AWS-0008', direct('SEC-DATA-002')],
  ['aws-s3-no-public-access-with-acl', 'AVD-AWS-0092', direct('SEC-S3-001')],
  // tfsec's public-access-block checks also fire when a bucket has no block at all; SEC-S3-002 is about flags set
  // false, so these only agree with it.
  ['aws-s3-block-public-acls', 'AVD-AWS-0086', corroborate('SEC-S3-002')],
  ['aws-s3-block-public-policy', 'AVD-AWS-0087', corroborate('SEC-S3-002')],
  ['aws-s3-ignore-public-acls', 'AVD-AWS-0091', corroborate('SEC-S3-002')],
  ['aws-s3-no-public-buckets', 'AVD-AWS-0093', corroborate('SEC-S3-002')],
  ['aws-rds-no-public-db-access', 'AVD-AWS-0082', direct('SEC-DB-002')],
  ['aws-rds-enable-public-access', 'AVD-AWS-0180', direct('SEC-DB-002')],
  ['aws-s3-enable-bucket-encryption', 'AVD-AWS-0088', corroborate('SEC-DATA-002')],
  ['aws-neptune-enable-storage-encryption', 'AVD-AWS-0076', direct('SEC-DATA-001')],
  ['aws-documentdb-enable-storage-encryption', 'AVD-AWS-0021', direct('SEC-DATA-001')],
  ['aws-elastic-search-enable-domain-encryption', 'AVD-AWS-0048', direct('SEC-DATA-002')],
  ['aws-elastic-search-enable-in-transit-encryption', 'AVD-AWS-0043', direct('SEC-DATA-002')],
  ['aws-elastic-search-enforce-https', 'AVD-AWS-0046', direct('SEC-DATA-002')],
  ['aws-eks-encrypt-secrets', 'AVD-AWS-0039', direct('SEC-K8S-001')],
  ['aws-eks-no-public-cluster-access', 'AVD-AWS-0040', corroborate('SEC-K8S-001')],
  ['aws-eks-no-public-cluster-access-to-cidr', 'AVD-AWS-0041', direct('SEC-K8S-001')],
  // Azure
  ['azure-network-ssh-blocked-from-internet', 'AVD-AZU-0050', direct('SEC-NET-001')],
  ['azure-network-disable-rdp-from-internet', 'AVD-AZU-0048', direct('SEC-NET-002')],
  ['azure-network-no-public-ingress', 'AVD-AZU-0047', corroborate('SEC-NET-001', 'SEC-NET-002', 'SEC-NET-003')],
  ['azure-storage-no-public-access', 'AVD-AZU-0007', direct('SEC-S3-001')],
  ['azure-database-no-public-firewall-access', 'AVD-AZU-0029', corroborate('SEC-DB-002')],
  ['azure-database-no-public-access', 'AVD-AZU-0022', corroborate('SEC-DB-002')],
  ['azure-container-limit-authorized-ips', 'AVD-AZU-0041', corroborate('SEC-K8S-001')],
  ['azure-storage-enforce-https', 'AVD-AZU-0008', direct('SEC-DATA-002')],
  // Google Cloud
  ['google-compute-no-public-ingress', 'AVD-GCP-0027', corroborate('SEC-NET-001', 'SEC-NET-002', 'SEC-NET-003')],
  ['google-storage-no-public-access', 'AVD-GCP-0001', direct('SEC-S3-001')],
  ['google-bigquery-no-public-access', 'AVD-GCP-0046', direct('SEC-S3-001')],
  ['google-iam-no-project-level-default-service-account-assignment', 'AVD-GCP-0006', corroborate('SEC-IAM-001')],
  ['google-sql-no-public-access', 'AVD-GCP-0017', corroborate('SEC-DB-002')],
  ['google-sql-encrypt-in-transit-data', 'AVD-GCP-0015', corroborate('SEC-DATA-001')],
  ['google-gke-enable-master-networks', 'AVD-GCP-0061', corroborate('SEC-K8S-001')],
  ['google-gke-no-public-control-plane', 'AVD-GCP-0053', corroborate('SEC-K8S-001')],
];

/**
 * Scanner checks whose own severity overstates them today, with why; their level is at most this. Everything not here
 * takes the level its severity gives (config `severity_levels`).
 */
export const SCANNER_LEVEL_CAPS: Readonly<Record<string, { level: Level; why: string }>> = {
  'AVD-AWS-0132': {
    level: 'advisory',
    why: 'S3 encrypts every object by default; a customer-managed key is a choice, not an exposure',
  },
  'aws-s3-encryption-customer-key': {
    level: 'advisory',
    why: 'S3 encrypts every object by default; a customer-managed key is a choice, not an exposure',
  },
  'AVD-GCP-0047': {
    level: 'advisory',
    why: 'PodSecurityPolicy was removed in Kubernetes 1.25; GKE no longer offers it',
  },
  'google-gke-enforce-pod-security-policy': {
    level: 'advisory',
    why: 'PodSecurityPolicy was removed in Kubernetes 1.25; GKE no longer offers it',
  },
};

export const TFSEC_MAP: Readonly<Record<string, ScannerMapping>> = Object.fromEntries(
  TFSEC_ENTRIES.flatMap(([longId, avd, m]) => [
    [longId, m],
    [avd, m],
  ]),
);

export function mapTfsecId(longId: string, avdId?: string): ScannerMapping | undefined {
  return TFSEC_MAP[longId] ?? (avdId ? TFSEC_MAP[avdId] : undefined);
}

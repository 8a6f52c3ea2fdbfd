// The rule table: every rule of the default policy set (POLICIES.md) with its default level, severity and
// remediation, and the scanner-native ids that report the same concern. This is the one place that decides what a
// tfsec or checkov result means for the verdict; everything a scanner reports that is not here is advisory.
import type { Level, Severity } from '../core/types.js';

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
    title: 'Code that runs on the plan/apply host, or comes from outside the allow-list',
    level: 'hard',
    severity: 'critical',
    remediation:
      'Remove `data "external"` and local-exec/remote-exec provisioners; use local modules or allow-listed registry modules pinned to an exact `version`, and allow-listed providers.',
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
    id: 'SEC-NET-001',
    title: 'SSH (22) open to the internet',
    level: 'hard',
    severity: 'critical',
    remediation: 'Restrict port 22 to known CIDRs (a bastion or VPN range) or use SSM Session Manager instead of SSH.',
  },
  {
    id: 'SEC-NET-002',
    title: 'RDP (3389) or all ports open to the internet',
    level: 'hard',
    severity: 'critical',
    remediation:
      'Open only the ports the service needs, from known CIDRs; never `protocol = "-1"` from 0.0.0.0/0 or ::/0.',
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
    title: 'IAM Allow with Action "*"',
    level: 'hard',
    severity: 'critical',
    remediation: 'List the actions the principal needs instead of "*" / "*:*".',
  },
  {
    id: 'SEC-IAM-002',
    title: 'AdministratorAccess attached',
    level: 'hard',
    severity: 'critical',
    remediation: 'Attach a least-privilege policy instead of arn:aws:iam::aws:policy/AdministratorAccess.',
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
    title: 'RDS storage not encrypted',
    level: 'soft',
    severity: 'high',
    remediation: 'Set `storage_encrypted = true` (optionally with `kms_key_id`).',
  },
  {
    id: 'SEC-DATA-002',
    title: 'EBS volume or root block device not encrypted',
    level: 'soft',
    severity: 'high',
    remediation: 'Set `encrypted = true` on the volume / block device, or enable EBS encryption by default.',
  },
  {
    id: 'SEC-S3-001',
    title: 'Public S3 ACL',
    level: 'hard',
    severity: 'critical',
    remediation:
      'Use `acl = "private"` (or no ACL with BucketOwnerEnforced ownership) and serve public content via CloudFront.',
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
    title: 'Database publicly accessible',
    level: 'soft',
    severity: 'high',
    remediation: 'Set `publicly_accessible = false` and reach the database from inside the VPC.',
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
};

/** checkov SECRET ids (secrets framework) are all literal secrets. */
export function mapCheckovId(id: string): ScannerMapping | undefined {
  if (/^CKV_SECRET_\d+$/.test(id)) return direct('SEC-SECRET-001');
  return CHECKOV_MAP[id];
}

/** Severities for unmapped checkov ids that matter more than 'low' (checkov has none offline). */
export const CHECKOV_SEVERITY: Readonly<Record<string, Severity>> = {
  CKV_AWS_79: 'medium',
  CKV_AWS_189: 'low',
  CKV_AWS_145: 'low',
  CKV_AWS_18: 'low',
  CKV_AWS_21: 'low',
  CKV_AWS_290: 'medium',
  CKV_AWS_288: 'medium',
  CKV_AWS_289: 'medium',
  CKV_AWS_287: 'medium',
  CKV_AWS_109: 'medium',
  CKV_AWS_111: 'medium',
  CKV2_AWS_40: 'medium',
  CKV_AWS_382: 'low',
  CKV_TF_1: 'low',
  CKV_TF_2: 'low',
};

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
];

export const TFSEC_MAP: Readonly<Record<string, ScannerMapping>> = Object.fromEntries(
  TFSEC_ENTRIES.flatMap(([longId, avd, m]) => [
    [longId, m],
    [avd, m],
  ]),
);

export function mapTfsecId(longId: string, avdId?: string): ScannerMapping | undefined {
  return TFSEC_MAP[longId] ?? (avdId ? TFSEC_MAP[avdId] : undefined);
}

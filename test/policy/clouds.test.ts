// Multi-cloud samples of our own (test/fixtures/clouds/<cloud>/{vulnerable,compliant}), through the whole gate with
// the real scanners and no plan: every planted problem comes out hard or soft under the rule of its family, and the
// compliant twin of each gets no hard or soft finding from any scanner.
import { resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { PolicyConfigSchema } from '../../src/config/schema.js';
import type { Verdict } from '../../src/core/types.js';
import { runGate } from '../../src/policy/gate.js';
import { describeWithTools } from '../helpers/tools.js';

const CLOUDS = resolve(import.meta.dirname, '../fixtures/clouds');
const config = PolicyConfigSchema.parse({});

type Planted = [family: string, address: string, rule: string, level: 'hard' | 'soft'];

const PLANTED: Record<string, Planted[]> = {
  aws: [
    ['admin port: SSH', 'aws_security_group.ssh', 'SEC-NET-001', 'hard'],
    ['admin port: RDP', 'aws_vpc_security_group_ingress_rule.rdp', 'SEC-NET-002', 'hard'],
    ['all ports', 'aws_security_group_rule.all', 'SEC-NET-002', 'hard'],
    ['public storage: ACL', 'aws_s3_bucket_acl.public', 'SEC-S3-001', 'hard'],
    ['public storage: no public access block', 'aws_s3_bucket.public', 'SEC-S3-002', 'soft'],
    ['wildcard IAM', 'aws_iam_policy.star', 'SEC-IAM-001', 'hard'],
    ['public database', 'aws_db_instance.db', 'SEC-DB-002', 'soft'],
    ['unencrypted database', 'aws_db_instance.db', 'SEC-DATA-001', 'soft'],
    ['public Kubernetes control plane', 'aws_eks_cluster.k8s', 'SEC-K8S-001', 'soft'],
    ['unencrypted disk', 'aws_ebs_volume.data', 'SEC-DATA-002', 'soft'],
  ],
  azure: [
    ['admin port: SSH', 'azurerm_network_security_rule.ssh', 'SEC-NET-001', 'hard'],
    ['all ports', 'azurerm_network_security_group.all', 'SEC-NET-002', 'hard'],
    ['public storage: container', 'azurerm_storage_container.public', 'SEC-S3-001', 'hard'],
    ['public storage: account', 'azurerm_storage_account.sa', 'SEC-S3-001', 'hard'],
    ['unencrypted transport', 'azurerm_storage_account.sa', 'SEC-DATA-002', 'soft'],
    ['wildcard role', 'azurerm_role_definition.god', 'SEC-IAM-001', 'hard'],
    ['public database', 'azurerm_mssql_server.sql', 'SEC-DB-002', 'soft'],
    ['public database firewall', 'azurerm_mssql_firewall_rule.world', 'SEC-DB-002', 'soft'],
    ['public Kubernetes control plane', 'azurerm_kubernetes_cluster.aks', 'SEC-K8S-001', 'soft'],
  ],
  gcp: [
    ['admin port: SSH', 'google_compute_firewall.ssh', 'SEC-NET-001', 'hard'],
    ['all ports', 'google_compute_firewall.all', 'SEC-NET-002', 'hard'],
    ['public storage: bucket IAM', 'google_storage_bucket_iam_member.public', 'SEC-S3-001', 'hard'],
    ['public dataset', 'google_bigquery_dataset.public', 'SEC-S3-001', 'hard'],
    ['primitive role', 'google_project_iam_member.owner', 'SEC-IAM-001', 'hard'],
    ['public database', 'google_sql_database_instance.db', 'SEC-DB-002', 'soft'],
    ['unencrypted database connections', 'google_sql_database_instance.db', 'SEC-DATA-001', 'soft'],
    ['public Kubernetes control plane', 'google_container_cluster.gke', 'SEC-K8S-001', 'soft'],
  ],
  // No Rego of ours for these clouds: the scanners' own checks, levelled by severity (policy.severity_levels).
  alibaba: [
    ['admin port: SSH', 'alicloud_security_group_rule.ssh', 'CKV_ALI_2', 'hard'],
    ['admin port: RDP', 'alicloud_security_group_rule.rdp', 'CKV_ALI_3', 'hard'],
    ['public storage', 'alicloud_oss_bucket.public', 'CKV_ALI_1', 'hard'],
    ['public database', 'alicloud_db_instance.db', 'CKV_ALI_9', 'soft'],
    ['unencrypted database', 'alicloud_db_instance.db', 'CKV_ALI_22', 'soft'],
    ['unencrypted disk', 'alicloud_disk.data', 'CKV_ALI_7', 'soft'],
  ],
  oracle: [
    ['admin port: SSH (security list)', 'oci_core_security_list.open', 'CKV_OCI_19', 'hard'],
    ['admin port: RDP (security list)', 'oci_core_security_list.open', 'CKV_OCI_20', 'hard'],
    [
      'admin port: SSH (network security group)',
      'oci_core_network_security_group_security_rule.ssh',
      'CKV_OCI_22',
      'hard',
    ],
    ['public storage', 'oci_objectstorage_bucket.public', 'CKV_OCI_10', 'hard'],
  ],
};

describeWithTools(
  ['tfsec', 'checkov', 'opa'],
  'AWS, Azure, Google Cloud, Alibaba Cloud and Oracle samples (real scanners, no plan)',
  () => {
    const verdicts = new Map<string, Verdict>();
    beforeAll(async () => {
      // Sequential: checkov is heavy and the machine is shared.
      for (const cloud of Object.keys(PLANTED))
        for (const variant of ['vulnerable', 'compliant']) {
          const dir = resolve(CLOUDS, cloud, variant);
          verdicts.set(`${cloud}/${variant}`, await runGate({ dir, repoRoot: dir, config }));
        }
    }, 900_000);

    for (const [cloud, planted] of Object.entries(PLANTED)) {
      describe(cloud, () => {
        it('every scanner runs on both trees, evaluated on the HCL', () => {
          for (const variant of ['vulnerable', 'compliant']) {
            const v = verdicts.get(`${cloud}/${variant}`);
            expect(v?.evaluatedOn).toBe('hcl');
            for (const s of v?.scanners ?? [])
              if (s.name !== 'trivy') expect(s.status, `${variant} ${s.name}: ${s.reason}`).toBe('ok');
          }
        });

        for (const [family, address, rule, level] of planted) {
          it(`vulnerable: ${family} → ${rule} ${level} on ${address}`, () => {
            const v = verdicts.get(`${cloud}/vulnerable`);
            const hit = v?.findings.find((f) => f.address === address && f.ruleId === rule);
            expect(
              hit,
              `${address} ${rule} in ${JSON.stringify(v?.findings.map((f) => [f.ruleId, f.address, f.level]))}`,
            ).toBeDefined();
            expect(hit?.level).toBe(level);
            expect(hit?.file).toBe('main.tf');
          });

          it(`compliant: no hard or soft finding on ${address} (${family})`, () => {
            const v = verdicts.get(`${cloud}/compliant`);
            const blocking = v?.findings.filter((f) => f.address === address && f.level !== 'advisory') ?? [];
            expect(blocking.map((f) => `${f.ruleId} ${f.level} ${f.sourceIds.join(',')}: ${f.message}`)).toEqual([]);
          });
        }

        it('compliant: no hard or soft finding anywhere, verdict pass', () => {
          const v = verdicts.get(`${cloud}/compliant`);
          const blocking = v?.findings.filter((f) => f.level !== 'advisory') ?? [];
          expect(blocking.map((f) => `${f.ruleId} ${f.address} ${f.sourceIds.join(',')}`)).toEqual([]);
          expect(v?.status).toBe('pass');
        });

        it('vulnerable: blocked', () => {
          expect(verdicts.get(`${cloud}/vulnerable`)?.status).toBe('blocked');
        });
      });
    }
  },
);

// Fixes written for the resource a finding is about: a rule's generic remediation says what to achieve, these say
// how, in the resource's own attributes (an Azure NSG gets Azure advice, a Lambda access key gets no RDS advice).
// Matched by exact resource type first, then by the longest type prefix ("aws_", "azurerm_", "google_", "provider.").

type FixTable = Readonly<Record<string, Readonly<Record<string, string>>>>;

const FIXES: FixTable = {
  'SEC-NET-001': {
    aws_: 'Limit `cidr_blocks` of the port-22 rule to a bastion or VPN range, or drop SSH and use SSM Session Manager.',
    azurerm_:
      'Set `source_address_prefix` of the port-22 rule to a known range (not `*` / `Internet`), or use Azure Bastion.',
    google_: 'Set `source_ranges` of the firewall to a known range (IAP TCP forwarding uses 35.235.240.0/20).',
  },
  'SEC-NET-002': {
    aws_: 'Open only the ports the service needs (not `protocol = "-1"` or 0-65535, not 3389) from known `cidr_blocks`.',
    azurerm_:
      'Replace `destination_port_range = "*"` / 3389 with the ports the service needs, from a known `source_address_prefix`.',
    google_: 'List the `ports` the service needs in `allow` (not protocol `all`, not 3389) and narrow `source_ranges`.',
  },
  'SEC-NET-003': {
    aws_: 'Put the service behind a load balancer on 80/443, or narrow `cidr_blocks`.',
    azurerm_: 'Put the service behind Application Gateway / Front Door on 443, or narrow `source_address_prefix`.',
    google_: 'Put the service behind a load balancer on 80/443, or narrow `source_ranges`.',
  },
  'SEC-IAM-001': {
    aws_: 'Replace `"*"` / `"*:*"` in `Action` with the actions the principal needs.',
    azurerm_role_definition: 'List the operations the role needs in `permissions.actions` instead of `"*"`.',
    google_: 'Grant a predefined or custom role with the permissions needed instead of `roles/owner` / `roles/editor`.',
  },
  'SEC-IAM-002': {
    aws_: 'Attach a least-privilege policy instead of `arn:aws:iam::aws:policy/AdministratorAccess`.',
    azurerm_role_assignment:
      'Assign a narrower role, at a resource-group or resource `scope`, not Owner on the subscription.',
    google_: 'Never grant owner/editor to `allUsers`, `allAuthenticatedUsers` or a whole domain; name the principals.',
  },
  'SEC-IAM-003': {
    aws_: 'Scope `Resource` to the ARNs the actions need (for `iam:PassRole`, the exact role ARNs).',
  },
  'SEC-DATA-001': {
    aws_db_instance: 'Set `storage_encrypted = true` (optionally `kms_key_id`).',
    aws_rds_cluster: 'Set `storage_encrypted = true` (optionally `kms_key_id`).',
    aws_neptune_cluster: 'Set `storage_encrypted = true` (optionally `kms_key_arn`).',
    aws_docdb_cluster: 'Set `storage_encrypted = true` (optionally `kms_key_id`).',
    aws_redshift_cluster: 'Set `encrypted = true` (optionally `kms_key_id`).',
    azurerm_: 'Keep `transparent_data_encryption_enabled = true` and `ssl_enforcement_enabled = true`.',
    google_sql_database_instance: 'Set `settings.ip_configuration.ssl_mode = "ENCRYPTED_ONLY"`.',
  },
  'SEC-DATA-002': {
    aws_ebs_volume: 'Set `encrypted = true`, or enable EBS encryption by default for the account.',
    aws_instance: 'Set `encrypted = true` in `root_block_device` / `ebs_block_device`.',
    aws_launch_template: 'Set `encrypted = true` in `block_device_mappings.ebs`.',
    aws_launch_configuration: 'Set `encrypted = true` in `root_block_device` / `ebs_block_device`.',
    aws_elasticsearch_domain:
      'Enable `encrypt_at_rest`, `node_to_node_encryption` and `domain_endpoint_options.enforce_https`.',
    aws_opensearch_domain:
      'Enable `encrypt_at_rest`, `node_to_node_encryption` and `domain_endpoint_options.enforce_https`.',
    azurerm_storage_account: 'Set `https_traffic_only_enabled = true` (and `min_tls_version = "TLS1_2"`).',
    azurerm_: 'Keep encryption enabled on the disk or store.',
  },
  'SEC-S3-001': {
    aws_: 'Use `acl = "private"` (or no ACL with BucketOwnerEnforced ownership) and serve public content via CloudFront.',
    azurerm_storage_container: 'Set `container_access_type = "private"`.',
    azurerm_storage_account: 'Set `allow_nested_items_to_be_public = false`.',
    google_storage_: 'Remove `allUsers` / `allAuthenticatedUsers` from the bucket IAM or ACL; grant named principals.',
    google_bigquery_: 'Remove `allUsers` / `allAuthenticatedUsers` from the dataset access; grant named groups.',
  },
  'SEC-S3-002': {
    aws_: 'Add an `aws_s3_bucket_public_access_block` with all four flags true, and name the principals in policies.',
  },
  'SEC-DB-002': {
    aws_: 'Set `publicly_accessible = false` and reach the database from inside the VPC.',
    azurerm_: 'Set `public_network_access_enabled = false` and use a private endpoint; no 0.0.0.0 firewall rules.',
    google_sql_database_instance:
      'Remove 0.0.0.0/0 from `authorized_networks`; use private IP or the Cloud SQL Auth Proxy.',
  },
  'SEC-K8S-001': {
    aws_eks_cluster:
      'Set `vpc_config.endpoint_public_access = false` (or list `public_access_cidrs`) and add `encryption_config` for secrets.',
    azurerm_kubernetes_cluster:
      'Set `api_server_access_profile.authorized_ip_ranges`, or `private_cluster_enabled = true`.',
    google_container_cluster:
      'Add `master_authorized_networks_config` with known ranges, or `private_cluster_config.enable_private_endpoint = true`.',
  },
  'SEC-SECRET-001': {
    aws_db_instance: 'Set `manage_master_user_password = true` and remove the literal password.',
    aws_rds_cluster: 'Set `manage_master_user_password = true` and remove the literal password.',
    aws_lambda_function:
      'Read the value at run time from Secrets Manager or SSM Parameter Store; never put keys in `environment`.',
    aws_iam_access_key: 'Do not create long-lived access keys in code; use roles (IRSA, instance profiles, OIDC).',
    aws_: 'Reference AWS Secrets Manager / SSM Parameter Store (data source or ephemeral value) instead of a literal.',
    azurerm_:
      'Reference a Key Vault secret (`azurerm_key_vault_secret`) or use a managed identity instead of a literal.',
    google_: 'Reference Secret Manager (`google_secret_manager_secret_version`) instead of a literal.',
    'provider.': 'Remove the credential from the provider block; supply it through the environment or a role.',
    'var.': 'Remove the default; pass the value from a secret store or the pipeline environment.',
  },
};

/** The resource type of an address: "module.a.aws_s3_bucket.b[0]" → "aws_s3_bucket"; providers and vars keep their kind. */
export function resourceType(address: string | undefined): string | undefined {
  if (!address) return undefined;
  const parts = address.replace(/\[[^\]]*\]/g, '').split('.');
  let i = 0;
  while (parts[i] === 'module' && i + 2 < parts.length) i += 2;
  const head = parts[i];
  if (head === 'provider' || head === 'var') return `${head}.`;
  if (head === 'data') return parts[i + 1];
  return head;
}

/** The fix for this rule on this resource's type, when one is written for it. */
export function fixFor(ruleId: string, address: string | undefined): string | undefined {
  const table = FIXES[ruleId];
  const type = resourceType(address);
  if (!table || !type) return undefined;
  if (table[type]) return table[type];
  let best: string | undefined;
  for (const key of Object.keys(table))
    if ((key.endsWith('_') || key.endsWith('.')) && type.startsWith(key) && (!best || key.length > best.length))
      best = key;
  return best ? table[best] : undefined;
}

# OPS-TAG-001 (required tags, on tags_all so provider default_tags count) and OPS-DEL-001 (delete or replace of a
# stateful resource).
package infra_agent.rules.ops

import data.infra_agent.lib

required := {t | some t in lib.config.required_tags}

taggable(rc) if "tags_all" in object.keys(rc.change.after)

taggable(rc) if "tags_all" in object.keys(object.get(rc.change, "after_unknown", {}))

# Provider default_tags written as literals, for when tags_all is unknown until apply.
default_tags := {k | some _, p in object.get(input, ["configuration", "provider_config"], {}); some block in object.get(p, ["expressions", "default_tags"], []); tags := lib.literal(block.tags); some k, _ in tags}

deny contains f if {
	count(required) > 0
	some rc in lib.changed
	taggable(rc)
	not lib.unknown(rc, ["tags_all"])
	have := {k | some k, _ in object.get(rc.change.after, "tags_all", {})}
	missing := required - have
	count(missing) > 0
	f := lib.finding("OPS-TAG-001", "low", rc.address, sprintf("missing required tags: %s", [concat(", ", sort(missing))]), "")
}

deny contains f if {
	count(required) > 0
	some rc in lib.changed
	taggable(rc)
	lib.unknown(rc, ["tags_all"])
	have := {k | some k, _ in object.get(rc.change.after, "tags", {})} | default_tags
	missing := required - have
	count(missing) > 0
	f := lib.not_verified("OPS-TAG-001", rc.address, sprintf("tags_all is known only after apply and tags/default_tags lack: %s", [concat(", ", sort(missing))]))
}

stateful_types := {
	"aws_db_instance", "aws_rds_cluster", "aws_rds_cluster_instance", "aws_dynamodb_table", "aws_s3_bucket",
	"aws_ebs_volume", "aws_efs_file_system", "aws_fsx_lustre_file_system", "aws_fsx_windows_file_system",
	"aws_fsx_ontap_file_system", "aws_fsx_openzfs_file_system", "aws_elasticache_cluster",
	"aws_elasticache_replication_group", "aws_redshift_cluster", "aws_neptune_cluster", "aws_docdb_cluster",
	"aws_opensearch_domain", "aws_elasticsearch_domain", "aws_kinesis_stream", "aws_backup_vault", "aws_kms_key",
	"aws_secretsmanager_secret", "aws_memorydb_cluster", "aws_timestreamwrite_table", "aws_glacier_vault",
	"google_sql_database_instance", "google_storage_bucket", "google_compute_disk", "google_bigquery_dataset",
	"google_spanner_instance", "azurerm_storage_account", "azurerm_mssql_database", "azurerm_postgresql_flexible_server",
	"azurerm_managed_disk", "azurerm_cosmosdb_account",
}

deny contains f if {
	some rc in lib.deleted
	rc.type in stateful_types
	what := action_word(rc.change.actions)
	f := lib.finding("OPS-DEL-001", "high", rc.address, sprintf("this plan will %s a stateful resource (%s): its data goes with it", [what, rc.type]), "")
}

action_word(actions) := "replace" if "create" in actions

action_word(actions) := "delete" if not "create" in actions

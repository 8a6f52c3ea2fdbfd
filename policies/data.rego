# SEC-DATA-001 (RDS storage encryption), SEC-DATA-002 (EBS / block device encryption), SEC-DB-002 (publicly
# accessible databases).
package infra_agent.rules.data

import data.infra_agent.lib

rds_types := {"aws_db_instance", "aws_rds_cluster"}

deny contains f if {
	some rc in lib.changed
	rc.type in rds_types
	not lib.unknown(rc, ["storage_encrypted"])
	object.get(rc.change.after, "storage_encrypted", false) != true
	not aurora_serverless_v1(rc.change.after)
	f := lib.finding("SEC-DATA-001", "high", rc.address, "storage_encrypted is not true", "")
}

aurora_serverless_v1(after) if after.engine_mode == "serverless"

deny contains f if {
	some rc in lib.changed
	rc.type in rds_types
	lib.unknown(rc, ["storage_encrypted"])
	f := lib.not_verified("SEC-DATA-001", rc.address, "storage_encrypted is known only after apply")
}

deny contains f if {
	some rc in lib.changed
	rc.type == "aws_ebs_volume"
	not lib.unknown(rc, ["encrypted"])
	object.get(rc.change.after, "encrypted", false) != true
	f := lib.finding("SEC-DATA-002", "high", rc.address, "the EBS volume is not encrypted", "")
}

deny contains f if {
	some rc in lib.changed
	rc.type == "aws_ebs_volume"
	lib.unknown(rc, ["encrypted"])
	f := lib.not_verified("SEC-DATA-002", rc.address, "encrypted is known only after apply")
}

block_device_types := {"aws_instance", "aws_launch_configuration", "aws_spot_instance_request"}

deny contains f if {
	some rc in lib.changed
	rc.type in block_device_types
	some kind in ["root_block_device", "ebs_block_device"]
	some i, dev in object.get(rc.change.after, kind, [])
	not lib.unknown(rc, [kind, i, "encrypted"])
	object.get(dev, "encrypted", false) != true
	f := lib.finding("SEC-DATA-002", "high", rc.address, sprintf("a %s is not encrypted", [kind]), "")
}

deny contains f if {
	some rc in lib.changed
	rc.type in block_device_types
	some kind in ["root_block_device", "ebs_block_device"]
	some i, _ in object.get(rc.change.after, kind, [])
	lib.unknown(rc, [kind, i, "encrypted"])
	f := lib.not_verified("SEC-DATA-002", rc.address, sprintf("the encryption of a %s is known only after apply", [kind]))
}

deny contains f if {
	some rc in lib.changed
	rc.type == "aws_launch_template"
	some mapping in object.get(rc.change.after, "block_device_mappings", [])
	some ebs in object.get(mapping, "ebs", [])
	not ebs.encrypted in {true, "true"}
	f := lib.finding("SEC-DATA-002", "high", rc.address, "a launch template block device is not encrypted", "")
}

public_db_types := {
	"aws_db_instance", "aws_rds_cluster_instance", "aws_redshift_cluster", "aws_dms_replication_instance",
	"aws_neptune_cluster_instance", "aws_docdb_cluster_instance",
}

deny contains f if {
	some rc in lib.changed
	rc.type in public_db_types
	rc.change.after.publicly_accessible == true
	f := lib.finding("SEC-DB-002", "high", rc.address, "publicly_accessible = true", "")
}

deny contains f if {
	some rc in lib.changed
	rc.type in public_db_types
	lib.unknown(rc, ["publicly_accessible"])
	f := lib.not_verified("SEC-DB-002", rc.address, "publicly_accessible is known only after apply")
}

# ---- more AWS stores: Neptune, DocumentDB, Redshift, OpenSearch/Elasticsearch ---------------------------------------

encrypted_flag := {
	"aws_neptune_cluster": "storage_encrypted",
	"aws_docdb_cluster": "storage_encrypted",
	"aws_redshift_cluster": "encrypted",
}

deny contains f if {
	some rc in lib.changed
	attr := encrypted_flag[rc.type]
	not lib.unknown(rc, [attr])
	object.get(rc.change.after, attr, false) != true
	f := lib.finding("SEC-DATA-001", "high", rc.address, sprintf("%s is not true", [attr]), "")
}

search_types := {"aws_elasticsearch_domain", "aws_opensearch_domain"}

deny contains f if {
	some rc in lib.changed
	rc.type in search_types
	some check in search_checks
	not search_ok(rc.change.after, check)
	not lib.unknown(rc, [check.block])
	f := lib.finding("SEC-DATA-002", "high", rc.address, check.message, "")
}

search_checks := [
	{"block": "encrypt_at_rest", "attr": "enabled", "message": "encryption at rest is not enabled"},
	{"block": "node_to_node_encryption", "attr": "enabled", "message": "node-to-node encryption is not enabled"},
	{"block": "domain_endpoint_options", "attr": "enforce_https", "message": "HTTPS is not enforced on the domain endpoint"},
]

search_ok(after, check) if {
	some b in lib.arr(object.get(after, check.block, []))
	object.get(b, check.attr, false) == true
}

# ---- Azure: databases reachable from the internet, TDE off, TLS not enforced -------------------------------------

azure_servers := {
	"azurerm_mssql_server", "azurerm_sql_server", "azurerm_postgresql_server", "azurerm_postgresql_flexible_server",
	"azurerm_mysql_server", "azurerm_mysql_flexible_server", "azurerm_mariadb_server", "azurerm_cosmosdb_account",
}

deny contains f if {
	some rc in lib.changed
	rc.type in azure_servers
	rc.change.after.public_network_access_enabled == true
	f := lib.finding("SEC-DB-002", "high", rc.address, "public_network_access_enabled = true", "")
}

azure_firewall_rules := {
	"azurerm_sql_firewall_rule", "azurerm_mssql_firewall_rule", "azurerm_postgresql_firewall_rule",
	"azurerm_postgresql_flexible_server_firewall_rule", "azurerm_mysql_firewall_rule",
	"azurerm_mysql_flexible_server_firewall_rule", "azurerm_mariadb_firewall_rule",
}

deny contains f if {
	some rc in lib.changed
	rc.type in azure_firewall_rules
	rc.change.after.start_ip_address == "0.0.0.0"
	rc.change.after.end_ip_address == "255.255.255.255"
	f := lib.finding("SEC-DB-002", "high", rc.address, "the firewall rule admits every address (0.0.0.0–255.255.255.255)", "")
}

deny contains f if {
	some rc in lib.changed
	rc.type in azure_firewall_rules
	rc.change.after.start_ip_address == "0.0.0.0"
	rc.change.after.end_ip_address == "0.0.0.0"
	f := lib.finding("SEC-DB-002", "high", rc.address, "the 0.0.0.0 firewall rule admits every Azure service, of any tenant", "")
}

deny contains f if {
	some rc in lib.changed
	rc.type in {"azurerm_mssql_database", "azurerm_sql_database"}
	rc.change.after.transparent_data_encryption_enabled == false
	f := lib.finding("SEC-DATA-001", "high", rc.address, "transparent_data_encryption_enabled = false", "")
}

deny contains f if {
	some rc in lib.changed
	rc.type in {"azurerm_postgresql_server", "azurerm_mysql_server", "azurerm_mariadb_server"}
	rc.change.after.ssl_enforcement_enabled == false
	f := lib.finding("SEC-DATA-001", "high", rc.address, "ssl_enforcement_enabled = false: connections may be unencrypted", "")
}

deny contains f if {
	some rc in lib.changed
	rc.type == "azurerm_storage_account"
	some attr in ["enable_https_traffic_only", "https_traffic_only_enabled"]
	rc.change.after[attr] == false
	f := lib.finding("SEC-DATA-002", "high", rc.address, sprintf("%s = false: data may travel unencrypted", [attr]), "")
}

deny contains f if {
	some rc in lib.changed
	rc.type == "azurerm_managed_disk"
	some ede in lib.arr(object.get(rc.change.after, "encryption_settings", []))
	object.get(ede, "enabled", true) == false
	f := lib.finding("SEC-DATA-002", "high", rc.address, "disk encryption_settings are disabled", "")
}

# ---- Google Cloud: Cloud SQL open to the internet or without TLS --------------------------------------------------

deny contains f if {
	some rc in lib.changed
	rc.type == "google_sql_database_instance"
	some s in lib.arr(object.get(rc.change.after, "settings", []))
	some ip in lib.arr(object.get(s, "ip_configuration", []))
	some n in lib.arr(object.get(ip, "authorized_networks", []))
	object.get(n, "value", "") in lib.world_cidrs
	f := lib.finding("SEC-DB-002", "high", rc.address, sprintf("an authorized network (%s) admits the whole internet", [n.value]), "")
}

deny contains f if {
	some rc in lib.changed
	rc.type == "google_sql_database_instance"
	some s in lib.arr(object.get(rc.change.after, "settings", []))
	some ip in lib.arr(object.get(s, "ip_configuration", []))
	cloudsql_plaintext(ip)
	f := lib.finding("SEC-DATA-001", "high", rc.address, "Cloud SQL accepts unencrypted connections (ip_configuration)", "")
}

cloudsql_plaintext(ip) if ip.ssl_mode == "ALLOW_UNENCRYPTED_AND_ENCRYPTED"

cloudsql_plaintext(ip) if {
	ip.require_ssl == false
	not ip.ssl_mode
}

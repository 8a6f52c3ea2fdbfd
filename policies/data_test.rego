package infra_agent.rules.data_test

import data.infra_agent.rules.data as rules
import data.infra_agent.test_helpers as h

test_unencrypted_rds_denied if {
	h.ids(rules.deny) == {"SEC-DATA-001"} with input as h.plan([h.rc("aws_db_instance", "db", {"storage_encrypted": false})])
}

test_rds_without_setting_denied if {
	h.ids(rules.deny) == {"SEC-DATA-001"} with input as h.plan([h.rc("aws_rds_cluster", "c", {"engine": "aurora-postgresql"})])
}

test_encrypted_rds_allowed if {
	count(rules.deny) == 0 with input as h.plan([h.rc("aws_db_instance", "db", {"storage_encrypted": true, "publicly_accessible": false})])
}

test_rds_encryption_unknown_not_verified if {
	p := h.plan([h.rc_unknown("aws_rds_cluster", "c", {}, {"storage_encrypted": true})])
	h.unverified(rules.deny) == {"SEC-DATA-001"} with input as p
	h.ids(rules.deny) == set() with input as p
}

test_unencrypted_ebs_denied if {
	h.ids(rules.deny) == {"SEC-DATA-002"} with input as h.plan([h.rc("aws_ebs_volume", "v", {"encrypted": false})])
}

test_encrypted_ebs_allowed if {
	count(rules.deny) == 0 with input as h.plan([h.rc("aws_ebs_volume", "v", {"encrypted": true})])
}

test_unencrypted_root_block_device_denied if {
	p := h.plan([h.rc("aws_instance", "i", {"root_block_device": [{"encrypted": false}]})])
	h.ids(rules.deny) == {"SEC-DATA-002"} with input as p
}

test_encrypted_root_block_device_allowed if {
	p := h.plan([h.rc("aws_instance", "i", {"root_block_device": [{"encrypted": true}], "ebs_block_device": []})])
	count(rules.deny) == 0 with input as p
}

test_launch_template_unencrypted_denied if {
	p := h.plan([h.rc("aws_launch_template", "lt", {"block_device_mappings": [{"ebs": [{"encrypted": "false"}]}]})])
	h.ids(rules.deny) == {"SEC-DATA-002"} with input as p
}

test_public_db_denied if {
	p := h.plan([h.rc("aws_db_instance", "db", {"storage_encrypted": true, "publicly_accessible": true})])
	h.ids(rules.deny) == {"SEC-DB-002"} with input as p
}

test_public_redshift_denied if {
	p := h.plan([h.rc("aws_redshift_cluster", "r", {"publicly_accessible": true, "encrypted": true})])
	h.ids(rules.deny) == {"SEC-DB-002"} with input as p
}

test_private_redshift_allowed if {
	count(rules.deny) == 0 with input as h.plan([h.rc("aws_redshift_cluster", "r", {"publicly_accessible": false, "encrypted": true})])
}

test_neptune_unencrypted_denied if {
	h.ids(rules.deny) == {"SEC-DATA-001"} with input as h.plan([h.rc("aws_neptune_cluster", "n", {"storage_encrypted": false})])
}

test_neptune_encrypted_allowed if {
	count(rules.deny) == 0 with input as h.plan([h.rc("aws_neptune_cluster", "n", {"storage_encrypted": true})])
}

test_opensearch_unencrypted_denied if {
	p := h.plan([h.rc("aws_elasticsearch_domain", "es", {"encrypt_at_rest": [{"enabled": false}]})])
	h.ids(rules.deny) == {"SEC-DATA-002"} with input as p
}

test_opensearch_encrypted_allowed if {
	p := h.plan([h.rc("aws_opensearch_domain", "es", {
		"encrypt_at_rest": [{"enabled": true}],
		"node_to_node_encryption": [{"enabled": true}],
		"domain_endpoint_options": [{"enforce_https": true}],
	})])
	count(rules.deny) == 0 with input as p
}

test_azure_sql_public_denied if {
	h.ids(rules.deny) == {"SEC-DB-002"} with input as h.plan([h.rc("azurerm_mssql_server", "s", {"public_network_access_enabled": true})])
}

test_azure_sql_private_allowed if {
	count(rules.deny) == 0 with input as h.plan([h.rc("azurerm_mssql_server", "s", {"public_network_access_enabled": false})])
}

test_azure_firewall_all_addresses_denied if {
	p := h.plan([h.rc("azurerm_postgresql_firewall_rule", "f", {"start_ip_address": "0.0.0.0", "end_ip_address": "255.255.255.255"})])
	h.ids(rules.deny) == {"SEC-DB-002"} with input as p
}

test_azure_firewall_office_allowed if {
	p := h.plan([h.rc("azurerm_mssql_firewall_rule", "f", {"start_ip_address": "203.0.113.10", "end_ip_address": "203.0.113.20"})])
	count(rules.deny) == 0 with input as p
}

test_azure_storage_http_denied if {
	h.ids(rules.deny) == {"SEC-DATA-002"} with input as h.plan([h.rc("azurerm_storage_account", "a", {"https_traffic_only_enabled": false})])
}

test_azure_tde_off_denied if {
	h.ids(rules.deny) == {"SEC-DATA-001"} with input as h.plan([h.rc("azurerm_mssql_database", "d", {"transparent_data_encryption_enabled": false})])
}

sql(ip) := h.plan([h.rc("google_sql_database_instance", "db", {"settings": [{"ip_configuration": [ip]}]})])

test_cloud_sql_world_network_denied if {
	h.ids(rules.deny) == {"SEC-DB-002"} with input as sql({"ipv4_enabled": true, "ssl_mode": "ENCRYPTED_ONLY", "authorized_networks": [{"name": "all", "value": "0.0.0.0/0"}]})
}

test_cloud_sql_office_network_allowed if {
	count(rules.deny) == 0 with input as sql({"ipv4_enabled": true, "ssl_mode": "ENCRYPTED_ONLY", "authorized_networks": [{"name": "office", "value": "203.0.113.0/24"}]})
}

test_cloud_sql_plaintext_denied if {
	h.ids(rules.deny) == {"SEC-DATA-001"} with input as sql({"ipv4_enabled": false, "ssl_mode": "ALLOW_UNENCRYPTED_AND_ENCRYPTED"})
}

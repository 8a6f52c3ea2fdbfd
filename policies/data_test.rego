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
	p := h.plan([h.rc("aws_redshift_cluster", "r", {"publicly_accessible": true})])
	h.ids(rules.deny) == {"SEC-DB-002"} with input as p
}

test_private_redshift_allowed if {
	count(rules.deny) == 0 with input as h.plan([h.rc("aws_redshift_cluster", "r", {"publicly_accessible": false})])
}

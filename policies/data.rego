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

package infra_agent.rules.ops_test

import data.infra_agent.rules.ops
import data.infra_agent.test_helpers as h

cfg := {"required_tags": ["owner", "env"]}

test_missing_tags_denied if {
	p := h.plan([h.rc("aws_s3_bucket", "b", {"tags": {"owner": "a"}, "tags_all": {"owner": "a"}})])
	h.ids(ops.deny) == {"OPS-TAG-001"} with input as p with data.infra_agent.config as cfg
}

test_default_tags_count_via_tags_all if {
	p := h.plan([h.rc("aws_s3_bucket", "b", {"tags": null, "tags_all": {"owner": "a", "env": "prod"}})])
	count(ops.deny) == 0 with input as p with data.infra_agent.config as cfg
}

test_unknown_tags_all_uses_default_tags if {
	p := object.union(h.plan([h.rc_unknown("aws_s3_bucket", "b", {"tags": {"owner": "a"}}, {"tags_all": true})]), {"configuration": {"provider_config": {"aws": {"name": "aws", "expressions": {"default_tags": [{"tags": {"constant_value": {"env": "prod"}}}]}}}}})
	count(ops.deny) == 0 with input as p with data.infra_agent.config as cfg
}

test_unknown_tags_all_missing_not_verified if {
	p := h.plan([h.rc_unknown("aws_s3_bucket", "b", {"tags": {"owner": "a"}}, {"tags_all": true})])
	h.unverified(ops.deny) == {"OPS-TAG-001"} with input as p with data.infra_agent.config as cfg
}

test_untaggable_ignored if {
	p := h.plan([h.rc("aws_s3_bucket_acl", "a", {"acl": "private"})])
	count(ops.deny) == 0 with input as p with data.infra_agent.config as cfg
}

test_no_required_tags_no_rule if {
	count(ops.deny) == 0 with input as h.plan([h.rc("aws_s3_bucket", "b", {"tags_all": {}})])
}

test_delete_database_denied if {
	p := h.plan([h.change("aws_db_instance", "db", ["delete"], null, {})])
	some f in ops.deny with input as p
	f.rule_id == "OPS-DEL-001"
	contains(f.message, "delete")
}

test_replace_volume_denied if {
	p := h.plan([h.change("aws_ebs_volume", "v", ["delete", "create"], {"encrypted": true}, {})])
	some f in ops.deny with input as p
	contains(f.message, "replace")
}

test_delete_stateless_allowed if {
	count(ops.deny) == 0 with input as h.plan([h.change("aws_security_group", "sg", ["delete"], null, {})])
}

test_update_database_allowed if {
	count(ops.deny) == 0 with input as h.plan([h.change("aws_db_instance", "db", ["update"], {"storage_encrypted": true}, {})])
}

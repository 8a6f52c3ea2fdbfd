package infra_agent.rules.s3_test

import data.infra_agent.rules.s3
import data.infra_agent.test_helpers as h

test_public_read_acl_denied if {
	h.ids(s3.deny) == {"SEC-S3-001"} with input as h.plan([h.rc("aws_s3_bucket_acl", "a", {"acl": "public-read"})])
}

test_authenticated_read_legacy_bucket_denied if {
	h.ids(s3.deny) == {"SEC-S3-001"} with input as h.plan([h.rc("aws_s3_bucket", "b", {"acl": "authenticated-read"})])
}

test_private_acl_allowed if {
	count(s3.deny) == 0 with input as h.plan([h.rc("aws_s3_bucket_acl", "a", {"acl": "private"})])
}

test_all_users_grant_denied if {
	grant := {"grantee": [{"type": "Group", "uri": "http://acs.amazonaws.com/groups/global/AllUsers"}], "permission": "READ"}
	p := h.plan([h.rc("aws_s3_bucket_acl", "a", {"access_control_policy": [{"grant": [grant]}]})])
	h.ids(s3.deny) == {"SEC-S3-001"} with input as p
}

test_pab_flag_false_denied if {
	p := h.plan([h.rc("aws_s3_bucket_public_access_block", "b", {"block_public_acls": false, "block_public_policy": true, "ignore_public_acls": true, "restrict_public_buckets": true})])
	h.ids(s3.deny) == {"SEC-S3-002"} with input as p
}

test_pab_all_true_allowed if {
	p := h.plan([h.rc("aws_s3_bucket_public_access_block", "b", {"block_public_acls": true, "block_public_policy": true, "ignore_public_acls": true, "restrict_public_buckets": true})])
	count(s3.deny) == 0 with input as p
}

test_bucket_policy_star_principal_denied if {
	doc := json.marshal({"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}]})
	h.ids(s3.deny) == {"SEC-S3-002"} with input as h.plan([h.rc("aws_s3_bucket_policy", "p", {"policy": doc})])
}

test_bucket_policy_aws_star_principal_denied if {
	doc := json.marshal({"Statement": [{"Effect": "Allow", "Principal": {"AWS": ["*"]}, "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}]})
	h.ids(s3.deny) == {"SEC-S3-002"} with input as h.plan([h.rc("aws_s3_bucket_policy", "p", {"policy": doc})])
}

test_bucket_policy_named_principal_allowed if {
	doc := json.marshal({"Statement": [{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:root"}, "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}]})
	count(s3.deny) == 0 with input as h.plan([h.rc("aws_s3_bucket_policy", "p", {"policy": doc})])
}

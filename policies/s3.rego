# SEC-S3-001 (public ACLs), SEC-S3-002 (public access block flags set false, bucket policies open to "*").
package infra_agent.rules.s3

import data.infra_agent.lib

public_acls := {"public-read", "public-read-write", "authenticated-read"}

acl_types := {"aws_s3_bucket", "aws_s3_bucket_acl", "aws_s3_object", "aws_s3_bucket_object"}

public_groups := {"http://acs.amazonaws.com/groups/global/AllUsers", "http://acs.amazonaws.com/groups/global/AuthenticatedUsers"}

deny contains f if {
	some rc in lib.changed
	rc.type in acl_types
	acl := object.get(rc.change.after, "acl", null)
	acl in public_acls
	f := lib.finding("SEC-S3-001", "critical", rc.address, sprintf("acl = %q makes the bucket public", [acl]), "")
}

deny contains f if {
	some rc in lib.changed
	rc.type == "aws_s3_bucket_acl"
	some acp in object.get(rc.change.after, "access_control_policy", [])
	some grant in object.get(acp, "grant", [])
	some grantee in object.get(grant, "grantee", [])
	object.get(grantee, "uri", "") in public_groups
	f := lib.finding("SEC-S3-001", "critical", rc.address, sprintf("a grant to %s makes the bucket public", [grantee.uri]), "")
}

deny contains f if {
	some rc in lib.changed
	rc.type in acl_types
	lib.unknown(rc, ["acl"])
	rc.type != "aws_s3_bucket"
	f := lib.not_verified("SEC-S3-001", rc.address, "the ACL is known only after apply")
}

flags := ["block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets"]

deny contains f if {
	some rc in lib.changed
	rc.type in {"aws_s3_bucket_public_access_block", "aws_s3_account_public_access_block"}
	off := [flag | some flag in flags; object.get(rc.change.after, flag, false) != true; not lib.unknown(rc, [flag])]
	count(off) > 0
	f := lib.finding("SEC-S3-002", "high", rc.address, sprintf("public access is not blocked: %s not true", [concat(", ", off)]), "")
}

deny contains f if {
	some rc in lib.changed
	rc.type in {"aws_s3_bucket_policy", "aws_s3_bucket"}
	text := object.get(rc.change.after, "policy", null)
	some s in lib.json_statements(text)
	st := lib.norm_statement(s)
	st.effect == "Allow"
	st.principal_star
	f := lib.finding("SEC-S3-002", "high", rc.address, "the bucket policy allows Principal \"*\"", "")
}

deny contains f if {
	some rc in lib.changed
	rc.type == "aws_s3_bucket_policy"
	lib.unknown(rc, ["policy"])
	f := lib.not_verified("SEC-S3-002", rc.address, "the bucket policy is known only after apply")
}

# SEC-S3-001 / SEC-S3-002 beyond S3 ACLs: public object storage and public datasets in Azure and Google Cloud, and
# S3 buckets that no public access block covers.
package infra_agent.rules.storage

import data.infra_agent.lib

# ---- Azure ----------------------------------------------------------------------------------------------------------

deny contains f if {
	some rc in lib.changed
	rc.type == "azurerm_storage_container"
	access := object.get(rc.change.after, "container_access_type", "private")
	access in {"blob", "container"}
	f := lib.finding("SEC-S3-001", "critical", rc.address, sprintf("container_access_type = %q lets anyone on the internet read the blobs", [access]), "")
}

deny contains f if {
	some rc in lib.changed
	rc.type == "azurerm_storage_account"
	some attr in ["allow_nested_items_to_be_public", "allow_blob_public_access"]
	object.get(rc.change.after, attr, false) == true
	f := lib.finding("SEC-S3-001", "critical", rc.address, sprintf("%s = true lets containers of this account be made public", [attr]), "")
}

# ---- Google Cloud -----------------------------------------------------------------------------------------------

public_members := {"allUsers", "allAuthenticatedUsers"}

public_member(m) if {
	is_string(m)
	m in public_members
}

iam_members(after) := array.concat(lib.arr(object.get(after, "members", [])), [m | m := object.get(after, "member", null); is_string(m)])

gcs_iam_types := {"google_storage_bucket_iam_member", "google_storage_bucket_iam_binding"}

deny contains f if {
	some rc in lib.changed
	rc.type in gcs_iam_types
	some m in iam_members(rc.change.after)
	public_member(m)
	f := lib.finding("SEC-S3-001", "critical", rc.address, sprintf("the bucket grants %s to %s", [object.get(rc.change.after, "role", "a role"), m]), "")
}

gcs_acl_types := {"google_storage_bucket_acl", "google_storage_default_object_acl", "google_storage_object_acl"}

deny contains f if {
	some rc in lib.changed
	rc.type in gcs_acl_types
	some entity in lib.arr(object.get(rc.change.after, "role_entity", []))
	some m in public_members
	contains(entity, m)
	f := lib.finding("SEC-S3-001", "critical", rc.address, sprintf("the ACL entry %q makes objects public", [entity]), "")
}

deny contains f if {
	some rc in lib.changed
	rc.type in {"google_storage_bucket_acl", "google_storage_object_acl", "google_storage_default_object_acl"}
	acl := object.get(rc.change.after, "predefined_acl", "")
	acl in {"publicRead", "publicReadWrite", "authenticatedRead"}
	f := lib.finding("SEC-S3-001", "critical", rc.address, sprintf("predefined_acl = %q makes objects public", [acl]), "")
}

bq_iam_types := {
	"google_bigquery_dataset_iam_member", "google_bigquery_dataset_iam_binding",
	"google_bigquery_table_iam_member", "google_bigquery_table_iam_binding",
}

deny contains f if {
	some rc in lib.changed
	rc.type in bq_iam_types
	some m in iam_members(rc.change.after)
	public_member(m)
	f := lib.finding("SEC-S3-001", "critical", rc.address, sprintf("the dataset grants %s to %s", [object.get(rc.change.after, "role", "a role"), m]), "")
}

deny contains f if {
	some rc in lib.changed
	rc.type in {"google_bigquery_dataset", "google_bigquery_dataset_access"}
	some entry in bq_access(rc)
	some attr in ["special_group", "iam_member"]
	public_member(object.get(entry, attr, null))
	f := lib.finding("SEC-S3-001", "critical", rc.address, sprintf("the dataset is readable by %s", [entry[attr]]), "")
}

bq_access(rc) := lib.arr(object.get(rc.change.after, "access", [])) if rc.type == "google_bigquery_dataset"

bq_access(rc) := [rc.change.after] if rc.type == "google_bigquery_dataset_access"

# ---- AWS: a bucket no public access block covers -----------------------------------------------------------------

pab_type := "aws_s3_bucket_public_access_block"

# Buckets a public access block names by configuration reference (module-relative), by full address.
covered_name[a] := true if {
	some addr, r in lib.config_resources
	r.type == pab_type
	prefix := trim_suffix(addr, r.address)
	some ref in object.get(r, ["expressions", "bucket", "references"], [])
	parts := split(ref, ".")
	parts[0] == "aws_s3_bucket"
	count(parts) >= 2
	a := concat("", [prefix, parts[0], ".", regex.replace(parts[1], `\[[^\]]*\]`, "")])
}

covered_bucket_names contains name if {
	some rc in lib.changed
	rc.type == pab_type
	name := rc.change.after.bucket
	is_string(name)
}

account_blocked if {
	some rc in lib.changed
	rc.type == "aws_s3_account_public_access_block"
}

deny contains f if {
	some rc in lib.changed
	rc.type == "aws_s3_bucket"
	not account_blocked
	base := regex.replace(rc.address, `\[[^\]]*\]`, "")
	not covered_name[base]
	not named_and_covered(rc)
	f := lib.finding("SEC-S3-002", "high", rc.address, "no aws_s3_bucket_public_access_block covers this bucket", "")
}

named_and_covered(rc) if {
	name := object.get(rc.change.after, "bucket", null)
	is_string(name)
	name in covered_bucket_names
}

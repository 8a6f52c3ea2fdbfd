package infra_agent.rules.storage_test

import data.infra_agent.rules.storage
import data.infra_agent.test_helpers as h

test_azure_public_container_denied if {
	h.ids(storage.deny) == {"SEC-S3-001"} with input as h.plan([h.rc("azurerm_storage_container", "c", {"container_access_type": "blob"})])
}

test_azure_private_container_allowed if {
	count(storage.deny) == 0 with input as h.plan([h.rc("azurerm_storage_container", "c", {"container_access_type": "private"})])
}

test_azure_account_nested_public_denied if {
	h.ids(storage.deny) == {"SEC-S3-001"} with input as h.plan([h.rc("azurerm_storage_account", "a", {"allow_nested_items_to_be_public": true})])
}

test_azure_account_nested_private_allowed if {
	count(storage.deny) == 0 with input as h.plan([h.rc("azurerm_storage_account", "a", {"allow_nested_items_to_be_public": false})])
}

test_gcs_all_users_member_denied if {
	p := h.plan([h.rc("google_storage_bucket_iam_member", "m", {"role": "roles/storage.objectViewer", "member": "allUsers"})])
	h.ids(storage.deny) == {"SEC-S3-001"} with input as p
}

test_gcs_all_authenticated_binding_denied if {
	p := h.plan([h.rc("google_storage_bucket_iam_binding", "b", {"role": "roles/storage.objectViewer", "members": ["user:a@example.com", "allAuthenticatedUsers"]})])
	h.ids(storage.deny) == {"SEC-S3-001"} with input as p
}

test_gcs_named_member_allowed if {
	p := h.plan([h.rc("google_storage_bucket_iam_member", "m", {"role": "roles/storage.objectViewer", "member": "group:data@example.com"})])
	count(storage.deny) == 0 with input as p
}

test_gcs_public_acl_denied if {
	p := h.plan([h.rc("google_storage_bucket_acl", "a", {"role_entity": ["READER:allUsers"]})])
	h.ids(storage.deny) == {"SEC-S3-001"} with input as p
}

test_bigquery_dataset_public_access_denied if {
	p := h.plan([h.rc("google_bigquery_dataset", "d", {"access": [{"role": "READER", "special_group": "allAuthenticatedUsers"}]})])
	h.ids(storage.deny) == {"SEC-S3-001"} with input as p
}

test_bigquery_dataset_iam_all_users_denied if {
	p := h.plan([h.rc("google_bigquery_dataset_iam_member", "m", {"role": "roles/bigquery.dataViewer", "member": "allUsers"})])
	h.ids(storage.deny) == {"SEC-S3-001"} with input as p
}

test_bigquery_dataset_project_readers_allowed if {
	p := h.plan([h.rc("google_bigquery_dataset", "d", {"access": [{"role": "READER", "special_group": "projectReaders"}]})])
	count(storage.deny) == 0 with input as p
}

bucket_config(pab_ref) := {
	"format_version": "1.2",
	"resource_changes": [
		h.rc("aws_s3_bucket", "b", {"bucket": "logs"}),
		h.rc("aws_s3_bucket_public_access_block", "b", {"block_public_acls": true}),
	],
	"configuration": {"root_module": {"resources": [
		{"address": "aws_s3_bucket.b", "mode": "managed", "type": "aws_s3_bucket", "name": "b", "expressions": {}},
		{"address": "aws_s3_bucket_public_access_block.b", "mode": "managed", "type": "aws_s3_bucket_public_access_block", "name": "b", "expressions": {"bucket": {"references": pab_ref}}},
	]}},
}

test_s3_bucket_without_public_access_block_denied if {
	h.ids(storage.deny) == {"SEC-S3-002"} with input as h.plan([h.rc("aws_s3_bucket", "b", {"bucket": "logs"})])
}

test_s3_bucket_with_public_access_block_allowed if {
	count(storage.deny) == 0 with input as bucket_config(["aws_s3_bucket.b.id", "aws_s3_bucket.b"])
}

test_s3_bucket_with_indexed_public_access_block_allowed if {
	count(storage.deny) == 0 with input as bucket_config(["aws_s3_bucket.b[0].id", "aws_s3_bucket.b[0]", "aws_s3_bucket.b"])
}

test_s3_bucket_block_for_another_bucket_denied if {
	h.ids(storage.deny) == {"SEC-S3-002"} with input as bucket_config(["aws_s3_bucket.other.id"])
}

test_s3_bucket_account_block_allowed if {
	p := h.plan([h.rc("aws_s3_bucket", "b", {"bucket": "logs"}), h.rc("aws_s3_account_public_access_block", "a", {})])
	count(storage.deny) == 0 with input as p
}

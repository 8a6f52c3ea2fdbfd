package infra_agent.rules.iam_test

import data.infra_agent.rules.iam
import data.infra_agent.test_helpers as h

policy(stmts) := h.plan([h.rc("aws_iam_policy", "p", {"policy": json.marshal({"Version": "2012-10-17", "Statement": stmts})})])

test_star_action_denied if {
	h.ids(iam.deny) == {"SEC-IAM-001"} with input as policy([{"Effect": "Allow", "Action": "*", "Resource": "*"}])
}

test_star_star_action_denied if {
	h.ids(iam.deny) == {"SEC-IAM-001"} with input as policy([{"Effect": "Allow", "Action": ["s3:GetObject", "*:*"], "Resource": "arn:aws:s3:::b/*"}])
}

test_star_action_deny_effect_allowed if {
	count(iam.deny) == 0 with input as policy([{"Effect": "Deny", "Action": "*", "Resource": "*"}])
}

test_scoped_policy_allowed if {
	count(iam.deny) == 0 with input as policy([{"Effect": "Allow", "Action": ["s3:PutObject"], "Resource": "arn:aws:s3:::b/*"}])
}

test_read_on_star_resource_allowed if {
	count(iam.deny) == 0 with input as policy([{"Effect": "Allow", "Action": ["ec2:Describe*", "s3:ListAllMyBuckets"], "Resource": "*"}])
}

test_write_on_star_resource_soft if {
	h.ids(iam.deny) == {"SEC-IAM-003"} with input as policy([{"Effect": "Allow", "Action": ["s3:PutObject"], "Resource": "*"}])
}

test_passrole_on_star_soft if {
	h.ids(iam.deny) == {"SEC-IAM-003"} with input as policy([{"Effect": "Allow", "Action": "iam:PassRole", "Resource": ["*"]}])
}

test_policy_document_data_source if {
	p := h.plan([h.data_rc("aws_iam_policy_document", "d", {"statement": [{"effect": "Allow", "actions": ["*"], "resources": ["*"]}]})])
	h.ids(iam.deny) == {"SEC-IAM-001"} with input as p
}

test_policy_document_in_prior_state if {
	p := object.union(h.plan([]), {"prior_state": {"values": {"root_module": {"resources": [{"address": "data.aws_iam_policy_document.d", "mode": "data", "type": "aws_iam_policy_document", "values": {"statement": [{"effect": "Allow", "actions": ["iam:PassRole"], "resources": ["*"]}]}}]}}}})
	h.ids(iam.deny) == {"SEC-IAM-003"} with input as p
}

test_role_inline_policy if {
	doc := json.marshal({"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]})
	p := h.plan([h.rc("aws_iam_role", "r", {"inline_policy": [{"name": "x", "policy": doc}]})])
	h.ids(iam.deny) == {"SEC-IAM-001"} with input as p
}

test_unknown_policy_not_verified if {
	p := h.plan([h.rc_unknown("aws_iam_policy", "p", {"name": "p"}, {"policy": true})])
	h.unverified(iam.deny) == {"SEC-IAM-001"} with input as p
	h.ids(iam.deny) == set() with input as p
}

test_admin_attachment_denied if {
	p := h.plan([h.rc("aws_iam_role_policy_attachment", "a", {"role": "r", "policy_arn": "arn:aws:iam::aws:policy/AdministratorAccess"})])
	h.ids(iam.deny) == {"SEC-IAM-002"} with input as p
}

test_readonly_attachment_allowed if {
	p := h.plan([h.rc("aws_iam_role_policy_attachment", "a", {"role": "r", "policy_arn": "arn:aws:iam::aws:policy/ReadOnlyAccess"})])
	count(iam.deny) == 0 with input as p
}

test_admin_in_managed_policy_arns_denied if {
	p := h.plan([h.rc("aws_iam_role", "r", {"managed_policy_arns": ["arn:aws:iam::aws:policy/AdministratorAccess"]})])
	h.ids(iam.deny) == {"SEC-IAM-002"} with input as p
}

test_fixture_shape_policy_allowed if {
	# The Describe-only policy of fixtures/plans/aws_iam_policy.json.
	count(iam.deny) == 0 with input as policy([{"Action": ["ec2:Describe*"], "Effect": "Allow", "Resource": "*"}])
}

test_azure_role_definition_star_denied if {
	p := h.plan([h.rc("azurerm_role_definition", "r", {"permissions": [{"actions": ["*"], "not_actions": []}]})])
	h.ids(iam.deny) == {"SEC-IAM-001"} with input as p
}

test_azure_role_definition_scoped_allowed if {
	p := h.plan([h.rc("azurerm_role_definition", "r", {"permissions": [{"actions": ["Microsoft.Storage/storageAccounts/read"]}]})])
	count(iam.deny) == 0 with input as p
}

test_azure_owner_at_subscription_denied if {
	p := h.plan([h.rc("azurerm_role_assignment", "a", {"role_definition_name": "Owner", "scope": "/subscriptions/00000000-0000-0000-0000-000000000000"})])
	h.ids(iam.deny) == {"SEC-IAM-002"} with input as p
}

test_azure_reader_at_resource_group_allowed if {
	p := h.plan([h.rc("azurerm_role_assignment", "a", {"role_definition_name": "Reader", "scope": "/subscriptions/0/resourceGroups/app"})])
	count(iam.deny) == 0 with input as p
}

test_gcp_project_owner_denied if {
	p := h.plan([h.rc("google_project_iam_member", "m", {"role": "roles/owner", "member": "user:dev@example.com"})])
	h.ids(iam.deny) == {"SEC-IAM-001"} with input as p
}

test_gcp_editor_to_all_users_denied if {
	p := h.plan([h.rc("google_project_iam_binding", "b", {"role": "roles/editor", "members": ["allAuthenticatedUsers"]})])
	h.ids(iam.deny) == {"SEC-IAM-002"} with input as p
}

test_gcp_predefined_role_allowed if {
	p := h.plan([h.rc("google_project_iam_member", "m", {"role": "roles/storage.objectViewer", "member": "serviceAccount:app@p.iam.gserviceaccount.com"})])
	count(iam.deny) == 0 with input as p
}

test_gcp_iam_policy_owner_denied if {
	p := h.plan([h.rc("google_project_iam_policy", "p", {"policy_data": "{\"bindings\":[{\"role\":\"roles/owner\",\"members\":[\"user:a@example.com\"]}]}"})])
	h.ids(iam.deny) == {"SEC-IAM-001"} with input as p
}

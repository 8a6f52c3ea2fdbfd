# SEC-IAM-001 (Allow Action "*"), SEC-IAM-002 (AdministratorAccess attached), SEC-IAM-003 (Resource "*" on write
# actions or iam:PassRole), on JSON policy strings and aws_iam_policy_document data sources.
package infra_agent.rules.iam

import data.infra_agent.lib

# Resource attributes that hold a JSON policy document.
policy_attributes := {"policy"}

# Policies by where they live: {address, statements}.
documents contains doc if {
	some rc in lib.changed
	startswith(rc.type, "aws_iam_")
	some attr in policy_attributes
	text := object.get(rc.change.after, attr, null)
	is_string(text)
	doc := {"address": rc.address, "statements": [lib.norm_statement(s) | some s in lib.json_statements(text)]}
}

documents contains doc if {
	some rc in lib.changed
	rc.type == "aws_iam_role"
	some block in object.get(rc.change.after, "inline_policy", [])
	doc := {"address": rc.address, "statements": [lib.norm_statement(s) | some s in lib.json_statements(object.get(block, "policy", null))]}
}

documents contains doc if {
	some rc in lib.read_data
	rc.type == "aws_iam_policy_document"
	doc := {"address": rc.address, "statements": lib.document_statements(rc.change.after)}
}

# Data sources already read during plan sit in prior_state.
documents contains doc if {
	walk(object.get(input, ["prior_state", "values", "root_module"], {}), [_, res])
	is_object(res)
	object.get(res, "type", "") == "aws_iam_policy_document"
	object.get(res, "mode", "") == "data"
	doc := {"address": res.address, "statements": lib.document_statements(object.get(res, "values", {}))}
}

unknown_policies contains rc.address if {
	some rc in lib.changed
	startswith(rc.type, "aws_iam_")
	some attr in policy_attributes
	lib.unknown(rc, [attr])
}

allows(s) if s.effect == "Allow"

star_action(s) if {
	some a in s.actions
	a in {"*", "*:*"}
}

star_resource(s) if "*" in s.resources

read_verbs := ["Get", "List", "Describe", "Head", "View", "Search", "Lookup", "BatchGet", "Query", "Scan", "Select", "Check", "Validate", "Preview", "Estimate", "Filter", "Test"]

write_action(a) if {
	parts := split(a, ":")
	count(parts) == 2
	verb := parts[1]
	not read_verb(verb)
}

read_verb(verb) if {
	some v in read_verbs
	startswith(verb, v)
	verb != v
}

read_verb(verb) if verb in {"Get*", "List*", "Describe*"}

deny contains f if {
	some doc in documents
	some s in doc.statements
	allows(s)
	star_action(s)
	f := lib.finding("SEC-IAM-001", "critical", doc.address, "an Allow statement grants Action \"*\" (every action on every service)", "")
}

deny contains f if {
	some doc in documents
	some s in doc.statements
	allows(s)
	not star_action(s)
	star_resource(s)
	risky := [a | some a in s.actions; risky_action(a)]
	count(risky) > 0
	f := lib.finding("SEC-IAM-003", "high", doc.address, sprintf("Resource \"*\" on %s", [concat(", ", risky)]), "")
}

risky_action(a) if lower(a) == "iam:passrole"

risky_action(a) if {
	lower(a) != "iam:passrole"
	write_action(a)
}

deny contains f if {
	some address in unknown_policies
	f := lib.not_verified("SEC-IAM-001", address, "the policy document is known only after apply")
}

admin_arn(arn) if {
	is_string(arn)
	endswith(arn, ":policy/AdministratorAccess")
}

attachment_types := {
	"aws_iam_role_policy_attachment", "aws_iam_user_policy_attachment", "aws_iam_group_policy_attachment",
	"aws_iam_policy_attachment",
}

deny contains f if {
	some rc in lib.changed
	rc.type in attachment_types
	admin_arn(rc.change.after.policy_arn)
	f := lib.finding("SEC-IAM-002", "critical", rc.address, "AdministratorAccess is attached", "")
}

deny contains f if {
	some rc in lib.changed
	rc.type == "aws_ssoadmin_managed_policy_attachment"
	admin_arn(rc.change.after.managed_policy_arn)
	f := lib.finding("SEC-IAM-002", "critical", rc.address, "AdministratorAccess is attached to a permission set", "")
}

deny contains f if {
	some rc in lib.changed
	some attr in ["managed_policy_arns", "policy_arns"]
	some arn in object.get(rc.change.after, attr, [])
	admin_arn(arn)
	f := lib.finding("SEC-IAM-002", "critical", rc.address, sprintf("AdministratorAccess is in %s", [attr]), "")
}

# ---- Azure: custom roles with every action, Owner at subscription scope ------------------------------------------

deny contains f if {
	some rc in lib.changed
	rc.type == "azurerm_role_definition"
	some p in lib.arr(object.get(rc.change.after, "permissions", []))
	"*" in lib.arr(object.get(p, "actions", []))
	f := lib.finding("SEC-IAM-001", "critical", rc.address, "the custom role grants actions = [\"*\"] (every action)", "")
}

subscription_scope(scope) if regex.match(`^/subscriptions/[^/]+/?$`, scope)

subscription_scope(scope) if regex.match(`^/providers/Microsoft.Management/managementGroups/[^/]+/?$`, scope)

deny contains f if {
	some rc in lib.changed
	rc.type == "azurerm_role_assignment"
	a := rc.change.after
	object.get(a, "role_definition_name", "") in {"Owner", "Contributor", "User Access Administrator"}
	scope := object.get(a, "scope", "")
	is_string(scope)
	subscription_scope(scope)
	f := lib.finding("SEC-IAM-002", "critical", rc.address, sprintf("%s is granted at the scope %s", [a.role_definition_name, scope]), "")
}

# ---- Google Cloud: primitive roles (owner, editor) on a project, folder or organization ---------------------------

primitive_roles := {"roles/owner", "roles/editor"}

gcp_iam_types := {
	"google_project_iam_member", "google_project_iam_binding",
	"google_folder_iam_member", "google_folder_iam_binding",
	"google_organization_iam_member", "google_organization_iam_binding",
}

gcp_members(after) := array.concat(lib.arr(object.get(after, "members", [])), [m | m := object.get(after, "member", null); is_string(m)])

broad_member(m) if m in {"allUsers", "allAuthenticatedUsers"}

broad_member(m) if startswith(m, "domain:")

deny contains f if {
	some rc in lib.changed
	rc.type in gcp_iam_types
	rc.change.after.role in primitive_roles
	members := gcp_members(rc.change.after)
	not any_broad(members)
	f := lib.finding("SEC-IAM-001", "critical", rc.address, sprintf("the primitive role %s is granted to %s", [rc.change.after.role, concat(", ", members)]), "")
}

deny contains f if {
	some rc in lib.changed
	rc.type in gcp_iam_types
	rc.change.after.role in primitive_roles
	some m in gcp_members(rc.change.after)
	broad_member(m)
	f := lib.finding("SEC-IAM-002", "critical", rc.address, sprintf("the primitive role %s is granted to %s", [rc.change.after.role, m]), "")
}

any_broad(members) if {
	some m in members
	broad_member(m)
}

deny contains f if {
	some rc in lib.changed
	rc.type in {"google_project_iam_policy", "google_folder_iam_policy", "google_organization_iam_policy"}
	text := object.get(rc.change.after, "policy_data", null)
	is_string(text)
	json.is_valid(text)
	some b in lib.arr(object.get(json.unmarshal(text), "bindings", []))
	b.role in primitive_roles
	f := lib.finding("SEC-IAM-001", "critical", rc.address, sprintf("the IAM policy grants the primitive role %s", [b.role]), "")
}

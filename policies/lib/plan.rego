# Helpers over `terraform show -json` output shared by every rule package: which resources the change creates or
# updates, what is unknown until apply, which configuration expressions are literals, and the repo's parameters.
package infra_agent.lib

# The repo's parameters (policy section of .github/infra-agent.yml), with safe defaults when none are given.
config := object.union(
	{"allowed_regions": [], "required_tags": [], "allowed_module_sources": [], "allowed_providers": []},
	repo_config,
)

default repo_config := {}

repo_config := data.infra_agent.config

# Resources this plan creates or updates (replace included). Deletes are OPS-DEL-001's business.
changed contains rc if {
	some rc in input.resource_changes
	rc.mode == "managed"
	some action in rc.change.actions
	action in {"create", "update"}
	is_object(rc.change.after)
}

# Data sources read during apply (their values are in the plan, possibly unknown).
read_data contains rc if {
	some rc in input.resource_changes
	rc.mode == "data"
	is_object(rc.change.after)
}

deleted contains rc if {
	some rc in input.resource_changes
	rc.mode == "managed"
	"delete" in rc.change.actions
}

# after_unknown at a path: true when the value (or any enclosing value) is known only after apply.
unknown(rc, path) if {
	some i in numbers.range(1, count(path))
	object.get(rc.change, array.concat(["after_unknown"], array.slice(path, 0, i)), false) == true
}

unknown(rc, path) if {
	count(path) == 0
	rc.change.after_unknown == true
}

# A list attribute that may be null in the plan (unset) as a list.
arr(x) := x if is_array(x)

arr(x) := [] if not is_array(x)

# Strings and lists as a list.
as_list(x) := x if is_array(x)

as_list(x) := [x] if not is_array(x)

world_cidrs := {"0.0.0.0/0", "::/0"}

# ---- configuration: literals vs references ----------------------------------------------------------------------

# Every module of the configuration with its address prefix ("" for root, "module.app." for a child).
modules contains [prefix, mod] if {
	walk(object.get(input, ["configuration", "root_module"], {}), [path, mod])
	is_module_path(path)
	prefix := concat("", [sprintf("module.%s.", [path[i + 1]]) | some i, seg in path; seg == "module_calls"; i % 3 == 0])
}

is_module_path(path) if count(path) == 0

is_module_path(path) if {
	n := count(path)
	n > 0
	n % 3 == 0
	every i in numbers.range(0, (n / 3) - 1) {
		path[3 * i] == "module_calls"
		path[(3 * i) + 2] == "module"
	}
}

# Configuration resources by full address (without instance keys).
config_resources[addr] := r if {
	some [prefix, mod] in modules
	some r in object.get(mod, "resources", [])
	addr := concat("", [prefix, r.address])
}

# A resource change's configuration entry.
config_of(rc) := r if {
	base := regex.replace(rc.address, `\[[^\]]*\]`, "")
	r := config_resources[base]
}

# The literal value of an expression (no references), when there is one.
literal(expr) := expr.constant_value if {
	is_object(expr)
	not expr.references
	expr.constant_value != null
}

is_literal_string(expr) if {
	v := literal(expr)
	is_string(v)
	v != ""
}

# A provider_config key ("aws", "aws.west", "module.app:aws") as an address.
provider_address(key) := concat(".", ["provider", key]) if not contains(key, ":")

provider_address(key) := concat("", [parts[0], ".provider.", parts[1]]) if {
	contains(key, ":")
	parts := split(key, ":")
}

# ---- IAM documents ----------------------------------------------------------------------------------------------

# Statements of a JSON policy string (invalid JSON yields none).
json_statements(doc) := stmts if {
	is_string(doc)
	json.is_valid(doc)
	parsed := json.unmarshal(doc)
	stmts := as_list(object.get(parsed, "Statement", []))
}

# A statement normalised: effect, actions, not_actions, resources, principals ("*" when public).
norm_statement(s) := {
	"effect": object.get(s, "Effect", "Allow"),
	"actions": [a | some a in as_list(object.get(s, "Action", []))],
	"resources": [r | some r in as_list(object.get(s, "Resource", []))],
	"principal_star": principal_star(object.get(s, "Principal", null)),
}

principal_star(p) if p == "*"

principal_star(p) if {
	is_object(p)
	some v in object.get(p, "AWS", [])
	v == "*"
}

principal_star(p) if {
	is_object(p)
	object.get(p, "AWS", null) == "*"
}

default principal_star(_) := false

# Statements of an aws_iam_policy_document data source's `statement` blocks.
document_statements(after) := [norm |
	some s in object.get(after, "statement", [])
	norm := {
		"effect": object.get(s, "effect", "Allow"),
		"actions": object.get(s, "actions", []),
		"resources": object.get(s, "resources", []),
		"principal_star": document_principal_star(s),
	}
]

document_principal_star(s) if {
	some p in object.get(s, "principals", [])
	some id in object.get(p, "identifiers", [])
	id == "*"
}

default document_principal_star(_) := false

finding(rule_id, severity, address, message, remediation) := {
	"rule_id": rule_id,
	"severity": severity,
	"address": address,
	"message": message,
	"remediation": remediation,
}

not_verified(rule_id, address, message) := {
	"rule_id": rule_id,
	"severity": "info",
	"address": address,
	"message": sprintf("not verified: %s", [message]),
	"remediation": "",
	"not_verified": true,
}

# Builders of small plan JSON documents in the shape of `terraform show -json`, for the policy tests.
package infra_agent.test_helpers

rc(type, name, after) := change(type, name, ["create"], after, {})

rc_unknown(type, name, after, unknown) := change(type, name, ["create"], after, unknown)

data_rc(type, name, after) := {
	"address": sprintf("data.%s.%s", [type, name]), "mode": "data", "type": type, "name": name,
	"change": {"actions": ["read"], "before": null, "after": after, "after_unknown": {}},
}

change(type, name, actions, after, unknown) := {
	"address": sprintf("%s.%s", [type, name]), "mode": "managed", "type": type, "name": name,
	"change": {"actions": actions, "before": null, "after": after, "after_unknown": unknown},
}

plan(rcs) := {"format_version": "1.2", "resource_changes": rcs, "configuration": {"root_module": {}}}

# A plan whose configuration holds these resources (address → expressions), variables and providers.
config_plan(resources, variables, providers) := {
	"format_version": "1.2",
	"resource_changes": [],
	"configuration": {
		"provider_config": providers,
		"root_module": {
			"resources": [r |
				some addr, exprs in resources
				parts := split(addr, ".")
				r := {"address": addr, "mode": "managed", "type": parts[0], "name": parts[1], "expressions": exprs}
			],
			"variables": variables,
		},
	},
}

ids(findings) := {f.rule_id | some f in findings; not f.not_verified}

unverified(findings) := {f.rule_id | some f in findings; f.not_verified}

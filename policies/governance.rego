# GOV-REG-001: providers and resources outside the configured regions. Only when `allowed_regions` is set.
package infra_agent.rules.governance

import data.infra_agent.lib

allowed := {r | some r in lib.config.allowed_regions}

# The region a provider block sets: a literal, or a variable whose value the plan knows.
provider_region(p) := v if {
	v := lib.literal(p.expressions.region)
	is_string(v)
}

provider_region(p) := v if {
	refs := p.expressions.region.references
	some ref in refs
	startswith(ref, "var.")
	name := substring(ref, 4, -1)
	v := input.variables[name].value
	is_string(v)
}

region_providers := {"aws", "google", "google-beta", "azurerm"}

deny contains f if {
	count(allowed) > 0
	some key, p in object.get(input, ["configuration", "provider_config"], {})
	region := provider_region(p)
	not region in allowed
	f := lib.finding("GOV-REG-001", "high", lib.provider_address(key), sprintf("provider %s uses region %q, not one of %s", [key, region, concat(", ", sort(allowed))]), "")
}

deny contains f if {
	count(allowed) > 0
	some key, p in object.get(input, ["configuration", "provider_config"], {})
	p.name == "aws"
	not provider_region(p)
	f := lib.not_verified("GOV-REG-001", lib.provider_address(key), sprintf("provider %s takes its region from outside the code", [key]))
}

deny contains f if {
	count(allowed) > 0
	some rc in lib.changed
	region := object.get(rc.change.after, "region", null)
	is_string(region)
	region != ""
	not region in allowed
	f := lib.finding("GOV-REG-001", "high", rc.address, sprintf("region %q is not one of %s", [region, concat(", ", sort(allowed))]), "")
}

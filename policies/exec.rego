# PRE-EXEC-001 on the plan's configuration, as a second line behind the pre-plan guard (which runs on the HCL before
# any terraform command): external data sources, provisioners, and module sources outside the allow-list.
package infra_agent.rules.exec

import data.infra_agent.lib

deny contains f if {
	some addr, r in lib.config_resources
	r.mode == "data"
	r.type == "external"
	f := lib.finding("PRE-EXEC-001", "critical", addr, "data \"external\" runs a program on the plan host", "")
}

deny contains f if {
	some addr, r in lib.config_resources
	some p in object.get(r, "provisioners", [])
	p.type in {"local-exec", "remote-exec"}
	f := lib.finding("PRE-EXEC-001", "critical", addr, sprintf("provisioner %q runs commands during apply", [p.type]), "")
}

local_source(src) if startswith(src, "./")

local_source(src) if startswith(src, "../")

allowed_source(src) if {
	some prefix in lib.config.allowed_module_sources
	startswith(src, prefix)
}

# Registry addresses: [host/]namespace/name/provider with no scheme or getter prefix.
registry_source(src) if regex.match(`^([a-z0-9.-]+\.[a-z]{2,}/)?[A-Za-z0-9_-]+/[A-Za-z0-9_-]+/[A-Za-z0-9_-]+$`, src)

exact_version(v) if regex.match(`^\s*=?\s*v?[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?\s*$`, v)

module_calls contains [addr, call] if {
	some [prefix, mod] in lib.modules
	some name, call in object.get(mod, "module_calls", {})
	addr := sprintf("%smodule.%s", [prefix, name])
}

deny contains f if {
	some [addr, call] in module_calls
	src := object.get(call, "source", "")
	not local_source(src)
	not allowed_source(src)
	f := lib.finding("PRE-EXEC-001", "critical", addr, sprintf("module source %q is not in allowed_module_sources", [src]), "")
}

deny contains f if {
	some [addr, call] in module_calls
	src := object.get(call, "source", "")
	allowed_source(src)
	registry_source(trim_prefix(src, "registry.terraform.io/"))
	not exact_version(object.get(call, "version_constraint", ""))
	f := lib.finding("PRE-EXEC-001", "critical", addr, sprintf("registry module %q is not pinned to an exact version", [src]), "")
}

# Providers outside `allowed_providers` (namespace/type), when that list is set.
deny contains f if {
	count(lib.config.allowed_providers) > 0
	some key, p in object.get(input, ["configuration", "provider_config"], {})
	full := object.get(p, "full_name", "")
	full != ""
	short := trim_prefix(full, "registry.terraform.io/")
	not short in {x | some x in lib.config.allowed_providers}
	not full in {x | some x in lib.config.allowed_providers}
	f := lib.finding("PRE-EXEC-001", "critical", lib.provider_address(key), sprintf("provider %q is not in allowed_providers", [short]), "")
}

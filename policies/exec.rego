# PRE-EXEC-001 on the plan's configuration, as a second line behind the pre-plan guard (which runs on the HCL before
# any terraform command): external data sources and provisioners. Module and provider sources are the guard's
# PRE-SOURCE-001 (soft): only it knows what the default branch already uses and reads the modules init downloaded.
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
	p.type in {"local-exec", "remote-exec", "file"}
	f := lib.finding("PRE-EXEC-001", "critical", addr, sprintf("provisioner %q runs commands during apply", [p.type]), "")
}

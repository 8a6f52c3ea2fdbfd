# Every finding of every default rule package, for the gate to evaluate in one query.
package infra_agent.main

findings contains f if {
	some area
	some f in data.infra_agent.rules[area].deny
}

# SEC-NET-001/002/003: security group ingress from the internet (0.0.0.0/0, ::/0).
package infra_agent.rules.network

import data.infra_agent.lib

# Every ingress rule the plan creates or updates, in one shape:
# {address, path (to its attributes in after), from, to, protocol, cidrs, cidrs_unknown, ports_unknown}.
ingress contains rule if {
	some rc in lib.changed
	rc.type == "aws_security_group"
	some i, block in object.get(rc.change.after, "ingress", [])
	rule := {
		"address": rc.address,
		"from": object.get(block, "from_port", null),
		"to": object.get(block, "to_port", null),
		"protocol": lower(sprintf("%v", [object.get(block, "protocol", "")])),
		"cidrs": array.concat(lib.arr(object.get(block, "cidr_blocks", [])), lib.arr(object.get(block, "ipv6_cidr_blocks", []))),
		"cidrs_unknown": cidrs_unknown(rc, ["ingress", i]),
		"ports_unknown": ports_unknown(rc, ["ingress", i], ["from_port", "to_port", "protocol"]),
	}
}

# The whole ingress list is unknown until apply.
unknown_ingress contains rc.address if {
	some rc in lib.changed
	rc.type == "aws_security_group"
	lib.unknown(rc, ["ingress"])
}

ingress contains rule if {
	some rc in lib.changed
	rc.type == "aws_security_group_rule"
	rc.change.after.type == "ingress"
	a := rc.change.after
	rule := {
		"address": rc.address,
		"from": object.get(a, "from_port", null),
		"to": object.get(a, "to_port", null),
		"protocol": lower(sprintf("%v", [object.get(a, "protocol", "")])),
		"cidrs": array.concat(lib.arr(object.get(a, "cidr_blocks", [])), lib.arr(object.get(a, "ipv6_cidr_blocks", []))),
		"cidrs_unknown": cidrs_unknown(rc, []),
		"ports_unknown": ports_unknown(rc, [], ["from_port", "to_port", "protocol"]),
	}
}

ingress contains rule if {
	some rc in lib.changed
	rc.type == "aws_vpc_security_group_ingress_rule"
	a := rc.change.after
	rule := {
		"address": rc.address,
		"from": object.get(a, "from_port", null),
		"to": object.get(a, "to_port", null),
		"protocol": lower(sprintf("%v", [object.get(a, "ip_protocol", "")])),
		"cidrs": [c | some k in ["cidr_ipv4", "cidr_ipv6"]; c := object.get(a, k, null); is_string(c)],
		"cidrs_unknown": some_unknown(rc, [], ["cidr_ipv4", "cidr_ipv6"]),
		"ports_unknown": some_unknown(rc, [], ["from_port", "to_port", "ip_protocol"]),
	}
}

cidrs_unknown(rc, base) := some_unknown(rc, base, ["cidr_blocks", "ipv6_cidr_blocks"])

ports_unknown(rc, base, names) := some_unknown(rc, base, names)

some_unknown(rc, base, names) if {
	some n in names
	lib.unknown(rc, array.concat(base, [n]))
}

default some_unknown(_, _, _) := false

all_protocols := {"-1", "all"}

icmp := {"icmp", "1", "icmpv6", "58"}

from_world(rule) if {
	some c in rule.cidrs
	c in lib.world_cidrs
}

all_ports(rule) if rule.protocol in all_protocols

all_ports(rule) if {
	not rule.protocol in icmp
	rule.from <= 0
	rule.to >= 65535
}

covers(rule, _) if rule.protocol in all_protocols

covers(rule, port) if {
	not rule.protocol in icmp
	is_number(rule.from)
	is_number(rule.to)
	rule.from <= port
	port <= rule.to
}

only_web(rule) if {
	rule.from == rule.to
	rule.from in {80, 443}
}

only_web(rule) if {
	not rule.protocol in all_protocols
	rule.from == 80
	rule.to == 80
}

# The rule a known ingress from the world breaks, if any.
violation(rule) := "SEC-NET-001" if covers(rule, 22)

violation(rule) := "SEC-NET-002" if {
	not covers(rule, 22)
	covers(rule, 3389)
}

violation(rule) := "SEC-NET-002" if {
	not covers(rule, 22)
	not covers(rule, 3389)
	all_ports(rule)
}

violation(rule) := "SEC-NET-003" if {
	not covers(rule, 22)
	not covers(rule, 3389)
	not all_ports(rule)
	not rule.protocol in icmp
	not only_web(rule)
}

describe(rule) := sprintf("%s ports %v-%v", [rule.protocol, rule.from, rule.to]) if not rule.protocol in all_protocols

describe(rule) := "all ports and protocols" if rule.protocol in all_protocols

deny contains f if {
	some rule in ingress
	not rule.cidrs_unknown
	not rule.ports_unknown
	from_world(rule)
	id := violation(rule)
	f := lib.finding(id, "high", rule.address, sprintf("ingress on %s is open to the internet (%s)", [describe(rule), concat(", ", [c | some c in rule.cidrs; c in lib.world_cidrs])]), "")
}

# SSH/RDP/all ports from the world also break SEC-NET-002/001 together: report both, as scanners do.
deny contains f if {
	some rule in ingress
	not rule.cidrs_unknown
	not rule.ports_unknown
	from_world(rule)
	covers(rule, 22)
	all_ports(rule)
	f := lib.finding("SEC-NET-002", "high", rule.address, sprintf("ingress on %s is open to the internet", [describe(rule)]), "")
}

deny contains f if {
	some rule in ingress
	not rule.cidrs_unknown
	not rule.ports_unknown
	from_world(rule)
	covers(rule, 22)
	not all_ports(rule)
	covers(rule, 3389)
	f := lib.finding("SEC-NET-002", "high", rule.address, sprintf("ingress on %s (includes 3389) is open to the internet", [describe(rule)]), "")
}

# Ports known, source CIDRs unknown until apply: the rule those ports would break, not verified.
deny contains f if {
	some rule in ingress
	rule.cidrs_unknown
	not rule.ports_unknown
	id := violation(rule)
	f := lib.not_verified(id, rule.address, sprintf("the source CIDRs of ingress on %s are known only after apply", [describe(rule)]))
}

deny contains f if {
	some rule in ingress
	rule.ports_unknown
	f := lib.not_verified("SEC-NET-001", rule.address, "the ports or protocol of an ingress rule are known only after apply")
}

deny contains f if {
	some address in unknown_ingress
	f := lib.not_verified("SEC-NET-001", address, "the ingress rules of this security group are known only after apply")
}

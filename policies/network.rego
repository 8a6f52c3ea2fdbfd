# SEC-NET-001/002/003: ingress from the internet, in every cloud: AWS security groups and their rules, Azure network
# security rules (standalone and `security_rule` blocks of a group), Google Cloud firewalls. Every producer below
# yields the same shape, one entry per port range, so the judgement (which port, which rule) is written once.
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

# ---- Azure: azurerm_network_security_rule and the security_rule blocks of azurerm_network_security_group --------

azure_rules contains [rc, a, base] if {
	some rc in lib.changed
	rc.type == "azurerm_network_security_rule"
	a := rc.change.after
	base := []
}

azure_rules contains [rc, a, ["security_rule", i]] if {
	some rc in lib.changed
	rc.type == "azurerm_network_security_group"
	some i, a in object.get(rc.change.after, "security_rule", [])
}

unknown_ingress contains rc.address if {
	some rc in lib.changed
	rc.type == "azurerm_network_security_group"
	lib.unknown(rc, ["security_rule"])
}

ingress contains rule if {
	some [rc, a, base] in azure_rules
	lower(object.get(a, "direction", "")) == "inbound"
	lower(object.get(a, "access", "")) == "allow"
	some range in azure_ports(a)
	rule := {
		"address": rc.address,
		"from": range[0],
		"to": range[1],
		"protocol": lower(sprintf("%v", [object.get(a, "protocol", "")])),
		"cidrs": array.concat(lib.arr(object.get(a, "source_address_prefixes", [])), [p | p := object.get(a, "source_address_prefix", null); is_string(p)]),
		"cidrs_unknown": some_unknown(rc, base, ["source_address_prefix", "source_address_prefixes"]),
		"ports_unknown": some_unknown(rc, base, ["destination_port_range", "destination_port_ranges", "protocol", "direction", "access"]),
	}
}

azure_ports(a) := [r |
	some p in array.concat(lib.arr(object.get(a, "destination_port_ranges", [])), [x | x := object.get(a, "destination_port_range", null); is_string(x)])
	r := port_range(p)
]

# "22", "1000-2000", "*" as [from, to].
port_range(p) := [0, 65535] if trim_space(sprintf("%v", [p])) == "*"

port_range(p) := [n, n] if {
	s := trim_space(sprintf("%v", [p]))
	not contains(s, "-")
	s != "*"
	n := to_number(s)
}

port_range(p) := [to_number(parts[0]), to_number(parts[1])] if {
	parts := split(trim_space(sprintf("%v", [p])), "-")
	count(parts) == 2
}

# ---- Google Cloud: google_compute_firewall (INGRESS by default; no ports = every port of the protocol) -----------

ingress contains rule if {
	some rc in lib.changed
	rc.type == "google_compute_firewall"
	a := rc.change.after
	upper(object.get(a, "direction", "INGRESS")) == "INGRESS"
	not object.get(a, "disabled", false) == true
	some i, allow in object.get(a, "allow", [])
	some range in gcp_ports(allow)
	rule := {
		"address": rc.address,
		"from": range[0],
		"to": range[1],
		"protocol": lower(sprintf("%v", [object.get(allow, "protocol", "")])),
		"cidrs": lib.arr(object.get(a, "source_ranges", [])),
		"cidrs_unknown": some_unknown(rc, [], ["source_ranges"]),
		"ports_unknown": some_unknown(rc, ["allow", i], ["ports", "protocol"]),
	}
}

unknown_ingress contains rc.address if {
	some rc in lib.changed
	rc.type == "google_compute_firewall"
	lib.unknown(rc, ["allow"])
}

gcp_ports(allow) := [[0, 65535]] if count(lib.arr(object.get(allow, "ports", []))) == 0

gcp_ports(allow) := [port_range(p) | some p in allow.ports] if count(lib.arr(object.get(allow, "ports", []))) > 0

cidrs_unknown(rc, base) := some_unknown(rc, base, ["cidr_blocks", "ipv6_cidr_blocks"])

ports_unknown(rc, base, names) := some_unknown(rc, base, names)

some_unknown(rc, base, names) if {
	some n in names
	lib.unknown(rc, array.concat(base, [n]))
}

default some_unknown(_, _, _) := false

all_protocols := {"-1", "all", "*"}

# Internet sources as AWS, Azure (service tags, "*") and Google Cloud write them.
world_sources := {"0.0.0.0/0", "::/0", "*", "internet", "any", "0.0.0.0"}

icmp := {"icmp", "1", "icmpv6", "58"}

world(c) if lower(trim_space(sprintf("%v", [c]))) in world_sources

from_world(rule) if {
	some c in rule.cidrs
	world(c)
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
	f := lib.finding(id, "high", rule.address, sprintf("ingress on %s is open to the internet (%s)", [describe(rule), concat(", ", [sprintf("%v", [c]) | some c in rule.cidrs; world(c)])]), "")
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

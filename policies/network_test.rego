package infra_agent.rules.network_test

import data.infra_agent.rules.network
import data.infra_agent.test_helpers as h

sg(ingress) := h.plan([h.rc("aws_security_group", "web", {"ingress": ingress})])

rule(from, to, proto, cidrs) := {"from_port": from, "to_port": to, "protocol": proto, "cidr_blocks": cidrs, "ipv6_cidr_blocks": []}

test_ssh_from_world_denied if {
	h.ids(network.deny) == {"SEC-NET-001"} with input as sg([rule(22, 22, "tcp", ["0.0.0.0/0"])])
}

test_ssh_from_ipv6_world_denied if {
	ids := h.ids(network.deny) with input as sg([{"from_port": 22, "to_port": 22, "protocol": "tcp", "cidr_blocks": [], "ipv6_cidr_blocks": ["::/0"]}])
	ids == {"SEC-NET-001"}
}

test_ssh_range_covering_22_denied if {
	"SEC-NET-001" in h.ids(network.deny) with input as sg([rule(0, 1024, "tcp", ["0.0.0.0/0"])])
}

test_ssh_from_office_allowed if {
	count(network.deny) == 0 with input as sg([rule(22, 22, "tcp", ["10.0.0.0/8"])])
}

test_https_from_world_allowed if {
	count(network.deny) == 0 with input as sg([rule(443, 443, "tcp", ["0.0.0.0/0"]), rule(80, 80, "tcp", ["0.0.0.0/0", "::/0"])])
}

test_rdp_from_world_denied if {
	h.ids(network.deny) == {"SEC-NET-002"} with input as sg([rule(3389, 3389, "tcp", ["0.0.0.0/0"])])
}

test_all_protocols_from_world_denied if {
	ids := h.ids(network.deny) with input as sg([rule(0, 0, "-1", ["0.0.0.0/0"])])
	"SEC-NET-002" in ids
}

test_all_protocols_internal_allowed if {
	count(network.deny) == 0 with input as sg([rule(0, 0, "-1", ["10.0.0.0/16"])])
}

test_other_port_from_world_soft if {
	h.ids(network.deny) == {"SEC-NET-003"} with input as sg([rule(5432, 5432, "tcp", ["0.0.0.0/0"])])
}

test_icmp_from_world_allowed if {
	count(network.deny) == 0 with input as sg([rule(8, 0, "icmp", ["0.0.0.0/0"])])
}

test_sg_rule_resource_denied if {
	p := h.plan([h.rc("aws_security_group_rule", "ssh", {"type": "ingress", "from_port": 22, "to_port": 22, "protocol": "tcp", "cidr_blocks": ["0.0.0.0/0"]})])
	h.ids(network.deny) == {"SEC-NET-001"} with input as p
}

test_sg_rule_egress_allowed if {
	p := h.plan([h.rc("aws_security_group_rule", "out", {"type": "egress", "from_port": 0, "to_port": 0, "protocol": "-1", "cidr_blocks": ["0.0.0.0/0"]})])
	count(network.deny) == 0 with input as p
}

test_vpc_ingress_rule_denied if {
	p := h.plan([h.rc("aws_vpc_security_group_ingress_rule", "ssh", {"from_port": 22, "to_port": 22, "ip_protocol": "tcp", "cidr_ipv4": "0.0.0.0/0"})])
	h.ids(network.deny) == {"SEC-NET-001"} with input as p
}

test_vpc_ingress_rule_https_allowed if {
	p := h.plan([h.rc("aws_vpc_security_group_ingress_rule", "https", {"from_port": 443, "to_port": 443, "ip_protocol": "tcp", "cidr_ipv4": "0.0.0.0/0"})])
	count(network.deny) == 0 with input as p
}

test_unknown_cidrs_not_verified if {
	p := h.plan([h.rc_unknown("aws_security_group_rule", "ssh", {"type": "ingress", "from_port": 22, "to_port": 22, "protocol": "tcp"}, {"cidr_blocks": true})])
	h.ids(network.deny) == set() with input as p
	h.unverified(network.deny) == {"SEC-NET-001"} with input as p
}

test_deleted_sg_ignored if {
	p := h.plan([h.change("aws_security_group", "old", ["delete"], null, {})])
	count(network.deny) == 0 with input as p
}

test_null_lists_in_plan_are_empty if {
	# Real plans carry null for unset list attributes.
	p := h.plan([h.rc("aws_security_group_rule", "rdp", {"type": "ingress", "from_port": 3389, "to_port": 3389, "protocol": "tcp", "cidr_blocks": null, "ipv6_cidr_blocks": ["::/0"]})])
	h.ids(network.deny) == {"SEC-NET-002"} with input as p
}

# ---- Azure -------------------------------------------------------------------------------------------------------

nsr(extra) := h.plan([h.rc("azurerm_network_security_rule", "r", object.union({"direction": "Inbound", "access": "Allow", "protocol": "Tcp", "source_address_prefix": "*"}, extra))])

test_azure_ssh_from_any_denied if {
	h.ids(network.deny) == {"SEC-NET-001"} with input as nsr({"destination_port_range": "22"})
}

test_azure_ssh_from_internet_tag_denied if {
	h.ids(network.deny) == {"SEC-NET-001"} with input as nsr({"destination_port_range": "22", "source_address_prefix": "Internet"})
}

test_azure_rdp_in_port_ranges_denied if {
	h.ids(network.deny) == {"SEC-NET-002"} with input as nsr({"destination_port_ranges": ["443", "3389"]})
}

test_azure_all_ports_denied if {
	"SEC-NET-002" in h.ids(network.deny) with input as nsr({"destination_port_range": "*", "protocol": "*"})
}

test_azure_ssh_from_vnet_allowed if {
	count(network.deny) == 0 with input as nsr({"destination_port_range": "22", "source_address_prefix": "10.0.0.0/16"})
}

test_azure_ssh_denied_by_rule_allowed if {
	count(network.deny) == 0 with input as nsr({"destination_port_range": "22", "access": "Deny"})
}

test_azure_https_from_internet_allowed if {
	count(network.deny) == 0 with input as nsr({"destination_port_range": "443"})
}

test_azure_nsg_security_rule_block_denied if {
	p := h.plan([h.rc("azurerm_network_security_group", "g", {"security_rule": [
		{"direction": "Inbound", "access": "Allow", "protocol": "Tcp", "source_address_prefix": "*", "destination_port_range": "443"},
		{"direction": "Inbound", "access": "Allow", "protocol": "Tcp", "source_address_prefix": "0.0.0.0/0", "destination_port_range": "3389"},
	]})])
	h.ids(network.deny) == {"SEC-NET-002"} with input as p
}

test_azure_nsg_compliant_allowed if {
	p := h.plan([h.rc("azurerm_network_security_group", "g", {"security_rule": [{"direction": "Inbound", "access": "Allow", "protocol": "Tcp", "source_address_prefix": "10.1.0.0/16", "destination_port_range": "22"}]})])
	count(network.deny) == 0 with input as p
}

# ---- Google Cloud -------------------------------------------------------------------------------------------------

fw(after) := h.plan([h.rc("google_compute_firewall", "fw", object.union({"source_ranges": ["0.0.0.0/0"]}, after))])

test_gcp_ssh_from_world_denied if {
	h.ids(network.deny) == {"SEC-NET-001"} with input as fw({"allow": [{"protocol": "tcp", "ports": ["22"]}]})
}

test_gcp_rdp_denied if {
	h.ids(network.deny) == {"SEC-NET-002"} with input as fw({"allow": [{"protocol": "tcp", "ports": ["3389"]}]})
}

test_gcp_all_ports_no_ports_list_denied if {
	"SEC-NET-002" in h.ids(network.deny) with input as fw({"allow": [{"protocol": "tcp"}]})
}

test_gcp_protocol_all_denied if {
	"SEC-NET-002" in h.ids(network.deny) with input as fw({"allow": [{"protocol": "all"}]})
}

test_gcp_port_range_0_65535_denied if {
	"SEC-NET-002" in h.ids(network.deny) with input as fw({"allow": [{"protocol": "tcp", "ports": ["0-65535"]}]})
}

test_gcp_ssh_from_iap_range_allowed if {
	count(network.deny) == 0 with input as fw({"source_ranges": ["35.235.240.0/20"], "allow": [{"protocol": "tcp", "ports": ["22"]}]})
}

test_gcp_egress_allowed if {
	count(network.deny) == 0 with input as fw({"direction": "EGRESS", "allow": [{"protocol": "tcp", "ports": ["22"]}]})
}

test_gcp_web_and_icmp_allowed if {
	count(network.deny) == 0 with input as fw({"allow": [{"protocol": "tcp", "ports": ["80", "443"]}, {"protocol": "icmp"}]})
}

test_gcp_unknown_sources_not_verified if {
	p := h.plan([h.rc_unknown("google_compute_firewall", "fw", {"allow": [{"protocol": "tcp", "ports": ["22"]}]}, {"source_ranges": true})])
	h.unverified(network.deny) == {"SEC-NET-001"} with input as p
	h.ids(network.deny) == set() with input as p
}

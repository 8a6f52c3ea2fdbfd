# SEC-K8S-001: a Kubernetes control plane reachable from the whole internet, or keeping its secrets unencrypted:
# EKS (public endpoint with 0.0.0.0/0, the provider default), AKS (no authorized IP ranges, not private), GKE (no
# master authorized networks, or 0.0.0.0/0 in them, and no private endpoint).
package infra_agent.rules.k8s

import data.infra_agent.lib

# ---- EKS --------------------------------------------------------------------------------------------------------

deny contains f if {
	some rc in lib.changed
	rc.type == "aws_eks_cluster"
	some vpc in lib.arr(object.get(rc.change.after, "vpc_config", []))
	object.get(vpc, "endpoint_public_access", true) == true
	not lib.unknown(rc, ["vpc_config", 0, "public_access_cidrs"])
	cidrs := object.get(vpc, "public_access_cidrs", ["0.0.0.0/0"])
	open := [c | some c in lib.arr(cidrs); c in lib.world_cidrs]
	eks_open(cidrs, open)
	f := lib.finding("SEC-K8S-001", "high", rc.address, "the EKS API endpoint is public to 0.0.0.0/0 (endpoint_public_access with public_access_cidrs open)", "")
}

# An empty or absent list means the provider default, 0.0.0.0/0.
eks_open(cidrs, open) if count(open) > 0

eks_open(cidrs, _) if count(lib.arr(cidrs)) == 0

deny contains f if {
	some rc in lib.changed
	rc.type == "aws_eks_cluster"
	not lib.unknown(rc, ["encryption_config"])
	count(lib.arr(object.get(rc.change.after, "encryption_config", []))) == 0
	f := lib.finding("SEC-K8S-001", "high", rc.address, "Kubernetes secrets are not encrypted with a KMS key (no encryption_config)", "")
}

# ---- AKS --------------------------------------------------------------------------------------------------------

deny contains f if {
	some rc in lib.changed
	rc.type == "azurerm_kubernetes_cluster"
	a := rc.change.after
	not object.get(a, "private_cluster_enabled", false) == true
	not lib.unknown(rc, ["api_server_access_profile"])
	not lib.unknown(rc, ["api_server_authorized_ip_ranges"])
	ranges := aks_ranges(a)
	aks_open(ranges)
	f := lib.finding("SEC-K8S-001", "high", rc.address, "the AKS API server is public and no authorized IP ranges restrict it", "")
}

aks_ranges(a) := array.concat(
	lib.arr(object.get(a, "api_server_authorized_ip_ranges", [])),
	[r | some p in lib.arr(object.get(a, "api_server_access_profile", [])); some r in lib.arr(object.get(p, "authorized_ip_ranges", []))],
)

aks_open(ranges) if count(ranges) == 0

aks_open(ranges) if {
	some r in ranges
	r in lib.world_cidrs
}

# ---- GKE --------------------------------------------------------------------------------------------------------

deny contains f if {
	some rc in lib.changed
	rc.type == "google_container_cluster"
	a := rc.change.after
	not gke_private_endpoint(a)
	not lib.unknown(rc, ["master_authorized_networks_config"])
	gke_open(a)
	f := lib.finding("SEC-K8S-001", "high", rc.address, "the GKE control plane is reachable from the internet (no master authorized networks, or 0.0.0.0/0 in them, and no private endpoint)", "")
}

gke_private_endpoint(a) if {
	some p in lib.arr(object.get(a, "private_cluster_config", []))
	p.enable_private_endpoint == true
}

gke_open(a) if count(lib.arr(object.get(a, "master_authorized_networks_config", []))) == 0

gke_open(a) if {
	some m in lib.arr(object.get(a, "master_authorized_networks_config", []))
	some c in lib.arr(object.get(m, "cidr_blocks", []))
	c.cidr_block in lib.world_cidrs
}

package infra_agent.rules.k8s_test

import data.infra_agent.rules.k8s
import data.infra_agent.test_helpers as h

kms := [{"resources": ["secrets"], "provider": [{"key_arn": "arn:aws:kms:eu-west-1:1:key/x"}]}]

test_eks_default_public_endpoint_denied if {
	p := h.plan([h.rc("aws_eks_cluster", "c", {"vpc_config": [{"subnet_ids": ["s"]}], "encryption_config": kms})])
	h.ids(k8s.deny) == {"SEC-K8S-001"} with input as p
}

test_eks_without_secrets_encryption_denied if {
	p := h.plan([h.rc("aws_eks_cluster", "c", {"vpc_config": [{"endpoint_public_access": false, "endpoint_private_access": true}]})])
	h.ids(k8s.deny) == {"SEC-K8S-001"} with input as p
}

test_eks_private_encrypted_allowed if {
	p := h.plan([h.rc("aws_eks_cluster", "c", {"vpc_config": [{"endpoint_public_access": false, "endpoint_private_access": true}], "encryption_config": kms})])
	count(k8s.deny) == 0 with input as p
}

test_eks_public_restricted_allowed if {
	p := h.plan([h.rc("aws_eks_cluster", "c", {"vpc_config": [{"endpoint_public_access": true, "public_access_cidrs": ["203.0.113.0/24"]}], "encryption_config": kms})])
	count(k8s.deny) == 0 with input as p
}

test_aks_without_ranges_denied if {
	h.ids(k8s.deny) == {"SEC-K8S-001"} with input as h.plan([h.rc("azurerm_kubernetes_cluster", "k", {"private_cluster_enabled": false})])
}

test_aks_with_ranges_allowed if {
	p := h.plan([h.rc("azurerm_kubernetes_cluster", "k", {"api_server_access_profile": [{"authorized_ip_ranges": ["203.0.113.0/24"]}]})])
	count(k8s.deny) == 0 with input as p
}

test_aks_private_allowed if {
	count(k8s.deny) == 0 with input as h.plan([h.rc("azurerm_kubernetes_cluster", "k", {"private_cluster_enabled": true})])
}

test_gke_without_authorized_networks_denied if {
	h.ids(k8s.deny) == {"SEC-K8S-001"} with input as h.plan([h.rc("google_container_cluster", "g", {"name": "g"})])
}

test_gke_world_authorized_network_denied if {
	p := h.plan([h.rc("google_container_cluster", "g", {"master_authorized_networks_config": [{"cidr_blocks": [{"cidr_block": "0.0.0.0/0"}]}]})])
	h.ids(k8s.deny) == {"SEC-K8S-001"} with input as p
}

test_gke_office_authorized_network_allowed if {
	p := h.plan([h.rc("google_container_cluster", "g", {"master_authorized_networks_config": [{"cidr_blocks": [{"cidr_block": "203.0.113.0/24"}]}]})])
	count(k8s.deny) == 0 with input as p
}

test_gke_private_endpoint_allowed if {
	p := h.plan([h.rc("google_container_cluster", "g", {"private_cluster_config": [{"enable_private_endpoint": true}]})])
	count(k8s.deny) == 0 with input as p
}

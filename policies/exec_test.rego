package infra_agent.rules.exec_test

import data.infra_agent.rules.exec
import data.infra_agent.test_helpers as h

cfg := {"allowed_module_sources": ["terraform-aws-modules/", "registry.terraform.io/"]}

with_config(root) := {"configuration": {"root_module": root}}

test_external_data_denied if {
	p := with_config({"resources": [{"address": "data.external.x", "mode": "data", "type": "external", "name": "x"}]})
	h.ids(exec.deny) == {"PRE-EXEC-001"} with input as p
}

test_local_exec_denied if {
	p := with_config({"resources": [{"address": "terraform_data.x", "mode": "managed", "type": "terraform_data", "name": "x", "provisioners": [{"type": "local-exec"}]}]})
	h.ids(exec.deny) == {"PRE-EXEC-001"} with input as p
}

test_plain_resource_allowed if {
	p := with_config({"resources": [{"address": "terraform_data.x", "mode": "managed", "type": "terraform_data", "name": "x"}]})
	count(exec.deny) == 0 with input as p
}

test_git_module_denied if {
	p := with_config({"module_calls": {"m": {"source": "git::https://example.com/m.git"}}})
	h.ids(exec.deny) == {"PRE-EXEC-001"} with input as p with data.infra_agent.config as cfg
}

test_unpinned_registry_module_denied if {
	p := with_config({"module_calls": {"vpc": {"source": "terraform-aws-modules/vpc/aws", "version_constraint": "~> 5.0"}}})
	h.ids(exec.deny) == {"PRE-EXEC-001"} with input as p with data.infra_agent.config as cfg
}

test_pinned_registry_module_allowed if {
	p := with_config({"module_calls": {"vpc": {"source": "terraform-aws-modules/vpc/aws", "version_constraint": "5.8.1"}}})
	count(exec.deny) == 0 with input as p with data.infra_agent.config as cfg
}

test_local_module_allowed if {
	p := with_config({"module_calls": {"app": {"source": "./modules/app", "module": {}}}})
	count(exec.deny) == 0 with input as p with data.infra_agent.config as cfg
}

test_provider_outside_list_denied if {
	p := {"configuration": {"provider_config": {"evil": {"name": "evil", "full_name": "registry.terraform.io/someone/evil"}}, "root_module": {}}}
	h.ids(exec.deny) == {"PRE-EXEC-001"} with input as p with data.infra_agent.config as {"allowed_providers": ["hashicorp/aws"]}
}

test_provider_in_list_allowed if {
	p := {"configuration": {"provider_config": {"aws": {"name": "aws", "full_name": "registry.terraform.io/hashicorp/aws"}}, "root_module": {}}}
	count(exec.deny) == 0 with input as p with data.infra_agent.config as {"allowed_providers": ["hashicorp/aws"]}
}

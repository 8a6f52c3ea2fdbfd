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

test_file_provisioner_denied if {
	p := with_config({"resources": [{"address": "terraform_data.x", "mode": "managed", "type": "terraform_data", "name": "x", "provisioners": [{"type": "file"}]}]})
	h.ids(exec.deny) == {"PRE-EXEC-001"} with input as p
}

test_remote_exec_in_module_denied if {
	p := with_config({"module_calls": {"app": {"source": "./app", "module": {"resources": [{"address": "null_resource.x", "mode": "managed", "type": "null_resource", "name": "x", "provisioners": [{"type": "remote-exec"}]}]}}}})
	h.ids(exec.deny) == {"PRE-EXEC-001"} with input as p
}

test_plain_resource_allowed if {
	p := with_config({"resources": [{"address": "terraform_data.x", "mode": "managed", "type": "terraform_data", "name": "x"}]})
	count(exec.deny) == 0 with input as p
}

test_module_sources_are_left_to_the_guard if {
	p := with_config({"module_calls": {"vpc": {"source": "terraform-aws-modules/vpc/aws", "version_constraint": "~> 5.0"}, "m": {"source": "git::https://example.com/m.git"}}})
	count(exec.deny) == 0 with input as p with data.infra_agent.config as cfg
}

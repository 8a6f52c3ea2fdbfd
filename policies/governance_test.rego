package infra_agent.rules.governance_test

import data.infra_agent.rules.governance
import data.infra_agent.test_helpers as h

provider(expr) := h.config_plan({}, {}, {"aws": {"name": "aws", "full_name": "registry.terraform.io/hashicorp/aws", "expressions": {"region": expr}}})

test_region_outside_list_denied if {
	p := provider({"constant_value": "us-east-1"})
	h.ids(governance.deny) == {"GOV-REG-001"} with input as p with data.infra_agent.config as {"allowed_regions": ["eu-west-1"]}
}

test_region_inside_list_allowed if {
	p := provider({"constant_value": "eu-west-1"})
	count(governance.deny) == 0 with input as p with data.infra_agent.config as {"allowed_regions": ["eu-west-1"]}
}

test_no_list_no_rule if {
	p := provider({"constant_value": "us-east-1"})
	count(governance.deny) == 0 with input as p
}

test_region_from_variable_resolved if {
	p := object.union(provider({"references": ["var.region"]}), {"variables": {"region": {"value": "ap-south-1"}}})
	h.ids(governance.deny) == {"GOV-REG-001"} with input as p with data.infra_agent.config as {"allowed_regions": ["eu-west-1"]}
}

test_region_from_environment_not_verified if {
	p := h.config_plan({}, {}, {"aws": {"name": "aws", "expressions": {}}})
	h.unverified(governance.deny) == {"GOV-REG-001"} with input as p with data.infra_agent.config as {"allowed_regions": ["eu-west-1"]}
}

test_resource_region_denied if {
	p := h.plan([h.rc("aws_s3_bucket", "b", {"region": "us-west-2"})])
	h.ids(governance.deny) == {"GOV-REG-001"} with input as p with data.infra_agent.config as {"allowed_regions": ["eu-west-1"]}
}

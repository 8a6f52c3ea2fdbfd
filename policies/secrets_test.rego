package infra_agent.rules.secrets_test

import data.infra_agent.rules.secrets
import data.infra_agent.test_helpers as h

test_literal_password_denied if {
	p := h.config_plan({"aws_db_instance.db": {"password": {"constant_value": "hunter2hunter2"}}}, {}, {})
	h.ids(secrets.deny) == {"SEC-SECRET-001"} with input as p
}

test_master_password_literal_denied if {
	p := h.config_plan({"aws_rds_cluster.c": {"master_password": {"constant_value": "hunter2hunter2"}}}, {}, {})
	h.ids(secrets.deny) == {"SEC-SECRET-001"} with input as p
}

test_variable_reference_allowed if {
	p := h.config_plan({"aws_db_instance.db": {"password": {"references": ["var.db_password"]}}}, {"db_password": {"sensitive": true}}, {})
	count(secrets.deny) == 0 with input as p
}

test_managed_password_allowed if {
	p := h.config_plan({"aws_db_instance.db": {"manage_master_user_password": {"constant_value": true}}}, {}, {})
	count(secrets.deny) == 0 with input as p
}

test_password_variable_default_denied if {
	p := h.config_plan({}, {"db_password": {"default": "hunter2hunter2"}}, {})
	some f in secrets.deny with input as p
	f.address == "var.db_password"
}

test_token_variable_default_denied if {
	p := h.config_plan({}, {"api_token": {"default": "tok_123456"}}, {})
	h.ids(secrets.deny) == {"SEC-SECRET-001"} with input as p
}

test_password_variable_without_default_allowed if {
	p := h.config_plan({}, {"db_password": {"sensitive": true}, "region": {"default": "eu-west-1"}}, {})
	count(secrets.deny) == 0 with input as p
}

test_provider_access_key_denied if {
	p := h.config_plan({}, {}, {"aws": {"name": "aws", "expressions": {"access_key": {"constant_value": "AKIAIOSFODNN7EXAMPLE"}, "region": {"constant_value": "eu-west-1"}}}})
	some f in secrets.deny with input as p
	f.address == "provider.aws"
}

test_provider_region_only_allowed if {
	p := h.config_plan({}, {}, {"aws": {"name": "aws", "expressions": {"region": {"constant_value": "eu-west-1"}}}})
	count(secrets.deny) == 0 with input as p
}

test_user_data_key_denied if {
	p := h.config_plan({"aws_instance.web": {"user_data": {"constant_value": "export AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE"}}}, {}, {})
	h.ids(secrets.deny) == {"SEC-SECRET-001"} with input as p
}

test_user_data_base64_key_denied if {
	p := h.config_plan({"aws_instance.web": {"user_data_base64": {"constant_value": base64.encode("AKIAIOSFODNN7EXAMPLE")}}}, {}, {})
	h.ids(secrets.deny) == {"SEC-SECRET-001"} with input as p
}

test_user_data_plain_allowed if {
	p := h.config_plan({"aws_instance.web": {"user_data": {"constant_value": "#!/bin/sh\nyum install -y nginx"}}}, {}, {})
	count(secrets.deny) == 0 with input as p
}

test_lambda_env_secret_denied if {
	p := h.config_plan({"aws_lambda_function.fn": {"environment": [{"variables": {"constant_value": {"AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"}}}]}}, {}, {})
	h.ids(secrets.deny) == {"SEC-SECRET-001"} with input as p
}

test_lambda_env_reference_allowed if {
	p := h.config_plan({"aws_lambda_function.fn": {"environment": [{"variables": {"references": ["aws_secretsmanager_secret.s.arn"]}}]}}, {}, {})
	count(secrets.deny) == 0 with input as p
}

test_lambda_env_plain_allowed if {
	p := h.config_plan({"aws_lambda_function.fn": {"environment": [{"variables": {"constant_value": {"LOG_LEVEL": "info"}}}]}}, {}, {})
	count(secrets.deny) == 0 with input as p
}

test_module_literal_password_denied if {
	p := {"configuration": {"root_module": {"module_calls": {"db": {"source": "./db", "module": {"resources": [{"address": "aws_db_instance.db", "mode": "managed", "type": "aws_db_instance", "name": "db", "expressions": {"password": {"constant_value": "hunter2hunter2"}}}]}}}}}}
	some f in secrets.deny with input as p
	f.address == "module.db.aws_db_instance.db"
}

# SEC-SECRET-001: literal secrets in the configuration. A literal is an expression with a constant_value and no
# references; `password = var.db_password` is not a finding (its value comes from outside the code).
package infra_agent.rules.secrets

import data.infra_agent.lib

password_attributes := {"password", "master_password", "admin_password"}

aws_key_id := `\b(AKIA|ASIA)[A-Z0-9]{16}\b`

aws_secret := `(?i)(aws_secret_access_key|secret_access_key|secretaccesskey)["']?\s*[:=]\s*["']?[A-Za-z0-9/+=]{40}`

secret_name := `(?i)(password|passwd|secret|token|private_key|api_key|access_key)`

remediation := "use manage_master_user_password = true (RDS) or AWS Secrets Manager / SSM Parameter Store, and provider credentials from the environment"

deny contains f if {
	some addr, r in lib.config_resources
	some attr in password_attributes
	lib.is_literal_string(object.get(r, ["expressions", attr], null))
	f := lib.finding("SEC-SECRET-001", "critical", addr, sprintf("%s is a literal string in the code", [attr]), remediation)
}

deny contains f if {
	some [prefix, mod] in lib.modules
	some name, v in object.get(mod, "variables", {})
	regex.match(`(?i)(password|secret|token)`, name)
	d := object.get(v, "default", null)
	is_string(d)
	d != ""
	f := lib.finding("SEC-SECRET-001", "critical", sprintf("%svar.%s", [prefix, name]), sprintf("variable %q has a literal default", [name]), remediation)
}

deny contains f if {
	some key, p in object.get(input, ["configuration", "provider_config"], {})
	some attr in ["access_key", "secret_key", "token"]
	lib.is_literal_string(object.get(p, ["expressions", attr], null))
	f := lib.finding("SEC-SECRET-001", "critical", lib.provider_address(key), sprintf("provider %s has a literal %s", [key, attr]), remediation)
}

user_data_types := {"aws_instance", "aws_launch_template", "aws_launch_configuration", "aws_spot_instance_request"}

cloud_key(text) if regex.match(aws_key_id, text)

cloud_key(text) if regex.match(aws_secret, text)

deny contains f if {
	some addr, r in lib.config_resources
	r.type in user_data_types
	some attr in ["user_data", "user_data_base64"]
	text := user_data_text(attr, lib.literal(object.get(r, ["expressions", attr], null)))
	cloud_key(text)
	f := lib.finding("SEC-SECRET-001", "critical", addr, sprintf("%s holds a cloud access key", [attr]), remediation)
}

user_data_text("user_data", v) := v if is_string(v)

user_data_text("user_data_base64", v) := base64.decode(v) if {
	is_string(v)
	base64.is_valid(v)
}

deny contains f if {
	some addr, r in lib.config_resources
	r.type == "aws_lambda_function"
	some env in object.get(r, ["expressions", "environment"], [])
	vars := lib.literal(object.get(env, "variables", null))
	some name, value in vars
	is_string(value)
	value != ""
	lambda_secret(name, value)
	f := lib.finding("SEC-SECRET-001", "critical", addr, sprintf("Lambda environment variable %s holds a literal secret", [name]), remediation)
}

lambda_secret(_, value) if cloud_key(value)

lambda_secret(name, _) if regex.match(secret_name, name)

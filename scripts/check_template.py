"""Checks template.yaml as CloudFormation will run it: transformed by the SAM translator
(offline, the version SAM CLI installs) with dev's and prod's deployment types.

- the REST API's integrations (every route) and their invoke permissions target the `live`
  alias, not the function (so CodeDeploy's traffic shifting is what callers get); the routes
  the contract serves are there, and every other path and method reaches the function; the
  stage is regional, throttled, traced and access-logged; API Gateway's own answers
  (throttling, WAF, 4xx, 5xx) are in the contract's {"code","message"} shape;
- the signing keys' secrets are generated in the form CONTRACT.md §8 gives their algorithm:
  the client key always HS256 (the key itself), the session key per SessionTokenAlg (EdDSA:
  {"alg":"EdDSA","key":...});
- the AWS WAF web ACL limits each IP address with a rate-based rule that answers 429 in the
  contract's shape, and is associated with the API's stage; its parameters accept exactly
  the limits and windows of the web ACL's resource schema;
- the deployment group rolls back on exactly the rollback alarms, with the configured type;
- the function gets METRICS_NAMESPACE = the stack name and METRICS_CLIENT_DIMENSION;
- every alarm and dashboard metric in the stack's namespace is one the function emits
  (the metric contract, docs/operations.md), and the dashboard shows every alarm;
- samconfig.toml's parameter_overrides name template parameters with allowed values, and
  deploy dev all at once and prod as a canary, with WAF on, reserved concurrency, client
  tokens of at most a day and a required iss and aud; every override is within its
  parameter's AllowedValues, AllowedPattern and MinValue/MaxValue;
- the signing keys' secrets are encrypted with the stack's KMS key (rotation on), whose policy
  lets the function only decrypt and the admin role decrypt and encrypt, both only through
  Secrets Manager, and gives the account administration but no direct use; each secret's
  resource policy (BlockPublicPolicy) denies reading a value to all but the function, the
  admin role and CloudFormation's role, writing one to all but the admin role and
  CloudFormation's, and denies nothing else (no lockout);
- the pipeline's CloudFormation execution role (.github/github-oidc.yaml) allows, for every
  resource type of the transformed template, the calls CloudFormation's handlers of that type
  make in its service (from the resource schemas cfn-lint ships), but those of features the
  template does not use (NOT_NEEDED), so a resource added to the template without its
  permissions fails here rather than in a deployment. KMS calls on the stack's key may be
  granted by the key's policy to CloudFormationRoleArn instead;
- every AWS::IAM::Role of the transformed template (SAM's included) carries the
  PermissionsBoundaryArn parameter as its boundary when it is set (none when empty), the
  pipeline's boundary (StackRolesBoundary) allows every action the roles' policies grant, the
  execution role creates or changes a role only with that boundary and never removes one,
  and the deploy action passes the boundary and CloudFormation's role to the stack.

Run by scripts/sam_checks.sh: .venv/bin/python scripts/check_template.py [template.yaml]
"""

import fnmatch
import json
import logging
import os
import pathlib
import re
import sys

import cfnlint

from samtranslator.translator.transform import transform
from samtranslator.yaml_helper import yaml_parse

FUNCTION = "CreateBiometricValidationFunction"
ALIAS = FUNCTION + "Aliaslive"
ROLLBACK_ALARMS = ["InternalErrorRateAlarm", "UnavailableRateAlarm", "FunctionErrorsAlarm"]
# The routes of the contract; every other path and method must reach the function too.
ROUTES = {
    "/v2/biometric-validations": {"post", "x-amazon-apigateway-any-method"},
    "/.well-known/jwks.json": {"get", "head", "x-amazon-apigateway-any-method"},
    "/{proxy+}": {"x-amazon-apigateway-any-method"},
    "/": {"x-amazon-apigateway-any-method"},
}
# API Gateway's own answers that must come in the contract's shape, with their status (None: API
# Gateway's own status of that family).
GATEWAY_RESPONSES = {
    "THROTTLED": "429",
    "WAF_FILTERED": "403",
    "MISSING_AUTHENTICATION_TOKEN": "404",
    "DEFAULT_4XX": None,
    "DEFAULT_5XX": None,
}
# The metrics the function writes in Embedded Metric Format (namespace = the stack name).
CONTRACT_METRICS = {
    "Requests",
    "InternalErrors",
    "Unavailable",
    "Latency",
    "DynamoDbTime",
    "IdempotentReplays",
    "ProjectCacheHits",
    "ColdStarts",
}

# Handler calls of the template's resource types that the execution role does not get, and why.
NOT_NEEDED = {
    # Features the template does not use.
    "lambda:AssociateRuntimeAlias": "no runtime alias",
    "lambda:GetCodeSigningConfig": "no code signing",
    "lambda:PutFunctionCodeSigningConfig": "no code signing",
    "lambda:DeleteFunctionCodeSigningConfig": "no code signing",
    "lambda:GetLayerVersion": "no layers",
    "lambda:PassCapacityProvider": "no capacity provider",
    "lambda:PutFunctionRecursionConfig": "default recursion setting",
    "lambda:PutFunctionScalingConfig": "default scaling",
    "lambda:PutRuntimeManagementConfig": "default runtime management",
    "lambda:PutProvisionedConcurrencyConfig": "no provisioned concurrency",
    "lambda:DeleteProvisionedConcurrencyConfig": "no provisioned concurrency",
    "dynamodb:AssociateTableReplica": "no replicas",
    "dynamodb:CreateTableReplica": "no replicas",
    "dynamodb:ImportTable": "no import",
    "dynamodb:EnableKinesisStreamingDestination": "no Kinesis stream",
    "dynamodb:DisableKinesisStreamingDestination": "no Kinesis stream",
    "dynamodb:UpdateKinesisStreamingDestination": "no Kinesis stream",
    "dynamodb:PutResourcePolicy": "no resource policy",
    "dynamodb:DeleteResourcePolicy": "no resource policy",
    "dynamodb:UpdateContributorInsights": "no contributor insights",
    "dynamodb:DeleteTable": "the table is retained (DeletionPolicy Retain, deletion protection)",
    "dynamodb:GetItem": "the pipeline never touches the table's items",
    "dynamodb:PutItem": "the pipeline never touches the table's items",
    "dynamodb:UpdateItem": "the pipeline never touches the table's items",
    "dynamodb:DeleteItem": "the pipeline never touches the table's items",
    "dynamodb:BatchWriteItem": "the pipeline never touches the table's items",
    "dynamodb:Query": "the pipeline never touches the table's items",
    "dynamodb:Scan": "the pipeline never touches the table's items",
    "logs:AssociateKmsKey": "log groups use the default encryption",
    "logs:DisassociateKmsKey": "log groups use the default encryption",
    "logs:PutDataProtectionPolicy": "no data protection policy",
    "logs:DeleteDataProtectionPolicy": "no data protection policy",
    "logs:PutIndexPolicy": "no index policy",
    "logs:DeleteIndexPolicy": "no index policy",
    "logs:DeleteResourcePolicy": "no log resource policy of the stack's own",
    "logs:PutBearerTokenAuthentication": "no bearer token authentication",
    "logs:PutLogGroupDeletionProtection": "no deletion protection on log groups",
    "sns:PutDataProtectionPolicy": "no data protection policy",
    "iam:AttachGroupPolicy": "the stack's managed policies are attached to its roles only",
    "iam:AttachUserPolicy": "the stack's managed policies are attached to its roles only",
    "iam:DetachGroupPolicy": "the stack's managed policies are attached to its roles only",
    "iam:DetachUserPolicy": "the stack's managed policies are attached to its roles only",
    "iam:DeleteRolePermissionsBoundary": "denied: a stack role's boundary is never removed",
    "codedeploy:RegisterOnPremisesInstance": "Lambda deployments only",
    "apigateway:UpdateRestApiPolicy": "no resource policy on the REST API",
    # The stage's tags go through apigateway:POST/DELETE on /tags/* (granted).
    "apigateway:TagResource": "tags through apigateway:POST",
    "apigateway:UntagResource": "tags through apigateway:DELETE",
}

# Calls a resource type's handlers make in another service than the type's own, which the
# execution role needs as well (the check below otherwise looks at the type's own service only).
CROSS_SERVICE_CALLS = {
    "AWS::WAFv2::WebACLAssociation": ["apigateway:SetWebACL"],
    # Writing a secret encrypted with a customer managed key (Secrets Manager calls KMS for
    # the caller), and changing a secret's key.
    "AWS::SecretsManager::Secret": ["kms:GenerateDataKey", "kms:Decrypt", "kms:Encrypt"],
}
# The key a KMS call of a resource type acts on, when not granted in IAM: the template's key,
# whose policy must then grant it to CloudFormationRoleArn.
KEY = "SecretsKey"
# The resource types whose calls on that key its policy may grant (an alias's own side, and
# CreateKey, need IAM).
KEY_POLICY_GRANTS_FOR = {"AWS::KMS::Key", "AWS::SecretsManager::Secret"}
SECRETS = ["ClientTokenSecret", "SessionTokenSecret"]
ROLES_THAT_READ_KEYS = ["FunctionRole", "AdminRole"]
ROLES_THAT_WRITE_KEYS = ["AdminRole"]

failures = []


def check(condition, message):
    if not condition:
        failures.append(message)


class NoManagedPolicyLookups:
    """The template names managed policies by ARN only: no IAM call is needed."""

    def load(self):
        raise RuntimeError("the transform wanted to look up managed policies in IAM")


def transformed(path, deployment_type):
    template = yaml_parse(open(path).read())
    # As `sam package` leaves it: code in S3.
    template["Resources"][FUNCTION]["Properties"]["CodeUri"] = "s3://bucket/key"
    return transform(template, {"DeploymentType": deployment_type}, NoManagedPolicyLookups())


def stack_namespace_metrics(resources):
    """Metric names the alarms and the dashboard read from the stack's own namespace."""
    names = set()
    for name, r in resources.items():
        props = r.get("Properties", {})
        if r["Type"] == "AWS::CloudWatch::Alarm" and props.get("Namespace") == {"Ref": "AWS::StackName"}:
            names.add(props["MetricName"])
    body = resources["Dashboard"]["Properties"]["DashboardBody"]["Fn::Sub"]
    for widget in json.loads(re.sub(r'(?<!")\$\{[A-Za-z0-9]+\}', "0", body))["widgets"]:
        for metric in widget.get("properties", {}).get("metrics", []):
            if isinstance(metric, list) and metric[0] == "${AWS::StackName}":
                names.add(metric[1])
            elif isinstance(metric, dict) and "expression" in metric:
                names.update(re.findall(r'MetricName=\\?"(\w+)', metric["expression"]))
    return names, body


def samconfig_overrides(path):
    """{environment: {parameter: value}} from samconfig.toml's deploy sections."""
    found, env = {}, None
    for line in open(path):
        section = re.match(r"\[(\w+)\.deploy\.parameters\]", line.strip())
        if section:
            env = section.group(1)
        elif line.strip().startswith("["):
            env = None
        overrides = re.match(r'parameter_overrides\s*=\s*"(.*)"', line.strip())
        if env and overrides:
            found[env] = dict(kv.split("=", 1) for kv in overrides.group(1).split())
    return found


def check_samconfig(template_path, samconfig_path):
    parameters = yaml_parse(open(template_path).read())["Parameters"]
    environments = samconfig_overrides(samconfig_path)
    check({"dev", "prod"} <= environments.keys(), f"{samconfig_path}: no dev or prod deploy parameters")
    for env, overrides in environments.items():
        for name, value in overrides.items():
            where = f"{samconfig_path} [{env}] {name}={value}"
            check(name in parameters, f"{where}: no such template parameter")
            parameter = parameters.get(name, {})
            allowed = parameter.get("AllowedValues")
            check(not allowed or value in [str(a) for a in allowed], f"{where}: not one of {allowed}")
            pattern = parameter.get("AllowedPattern")
            check(not pattern or re.fullmatch(pattern, value), f"{where}: does not match {pattern}")
            if parameter.get("Type") == "Number":
                number = float(value) if re.fullmatch(r"-?[0-9]+(\.[0-9]+)?", value) else None
                check(number is not None, f"{where}: not a number")
                for bound, ok in [("MinValue", lambda b: number >= b), ("MaxValue", lambda b: number <= b)]:
                    if number is not None and bound in parameter:
                        check(ok(float(parameter[bound])), f"{where}: outside {bound} {parameter[bound]}")
    check(environments.get("dev", {}).get("DeploymentType") == "AllAtOnce", "dev is not deployed AllAtOnce")
    prod = environments.get("prod", {})
    check(prod.get("DeploymentType", "").startswith("Canary"), "prod is not deployed as a canary")
    check(prod.get("WafEnabled") == "true", "prod does not set WafEnabled=true (per-IP rate limit)")
    # As `admin mint-token` caps them: a leaked client token is good for a day at most.
    check(
        prod.get("ClientTokenMaxSeconds", "").isdigit() and 0 < int(prod["ClientTokenMaxSeconds"]) <= 86400,
        "prod does not cap client-token lifetimes at a day (ClientTokenMaxSeconds)",
    )
    for name in ["ClientTokenIssuer", "ClientTokenAudience"]:
        check(prod.get(name), f"prod does not require a client-token {name[len('ClientToken'):].lower()} ({name})")
    check(
        prod.get("ReservedConcurrency", "0").isdigit() and int(prod.get("ReservedConcurrency", "0")) > 0,
        "prod does not reserve (and cap) the function's concurrency (ReservedConcurrency)",
    )


def resource_schema(resource_type):
    """The CloudFormation registry schema of `resource_type`, as cfn-lint ships it."""
    schemas = pathlib.Path(cfnlint.__file__).parent / "data" / "schemas"
    try:
        index = json.loads((schemas / "providers" / "us-east-1.json").read_text())
        return json.loads((schemas / "resources" / (index[resource_type] + ".json")).read_text())
    except (OSError, KeyError, ValueError) as e:
        raise SystemExit(f"check_template: no resource schema for {resource_type} in cfn-lint ({e!r})")


def check_waf_parameters(template_path):
    """WafRateLimit accepts exactly what the web ACL's schema does (a value outside passes
    CloudFormation's parameter checks, then fails the stack update), and the one-minute window
    is one of WAF's."""
    parameters = yaml_parse(open(template_path).read())["Parameters"]
    definitions = resource_schema("AWS::WAFv2::WebACL")["definitions"]
    limit, window = definitions["RateLimit"], definitions["EvaluationWindowSec"]
    got = (parameters["WafRateLimit"].get("MinValue"), parameters["WafRateLimit"].get("MaxValue"))
    check(
        got == (limit["minimum"], limit["maximum"]),
        f"WafRateLimit allows {got[0]}..{got[1]}, AWS WAF {limit['minimum']}..{limit['maximum']}",
    )
    check(60 in window["enum"], f"AWS WAF's evaluation windows are {window['enum']}, not one minute")


def handler_calls(resource_type):
    """The calls CloudFormation's handlers of `resource_type` make, from cfn-lint's schemas."""
    schema = resource_schema(resource_type)
    calls = set()
    for handler, spec in schema.get("handlers", {}).items():
        if handler != "list":
            calls.update(spec.get("permissions", []))
    return calls


def statements_of(document):
    statements = document.get("Statement", [])
    resolved = []
    for s in statements:
        # A statement under a condition: !If [cond, statement, AWS::NoValue].
        if "Fn::If" in s:
            s = s["Fn::If"][1]
        resolved.append(s)
    return resolved


def as_list(v):
    return v if isinstance(v, list) else [v]


def key_policy_grants_cloudformation(resources, call):
    """The stack key's policy grants `call` to CloudFormationRoleArn (via Secrets Manager for
    the cryptographic calls a secret's handler makes)."""
    policy = resources.get(KEY, {}).get("Properties", {}).get("KeyPolicy", {})
    for s in statements_of(policy):
        if s.get("Effect") == "Allow" and s.get("Principal", {}).get("AWS") == {"Ref": "CloudFormationRoleArn"}:
            if any(fnmatch.fnmatch(call.lower(), a.lower()) for a in as_list(s["Action"])):
                return True
    return False


def check_execution_role(resources, pipeline_path):
    pipeline = yaml_parse(open(pipeline_path).read())
    role = pipeline["Resources"]["CloudFormationExecutionRole"]["Properties"]
    allowed = []
    for policy in role["Policies"]:
        for statement in policy["PolicyDocument"]["Statement"]:
            if statement["Effect"] == "Allow":
                actions = statement["Action"]
                allowed += [actions] if isinstance(actions, str) else actions
    for resource_type in sorted({r["Type"] for r in resources.values()}):
        service = resource_type.split("::")[1].lower().replace("apigatewayv2", "apigateway")
        own = {c for c in handler_calls(resource_type) if c.split(":")[0].lower() == service}
        for call in sorted(own | set(CROSS_SERVICE_CALLS.get(resource_type, []))):
            if call in NOT_NEEDED:
                continue
            in_iam = any(fnmatch.fnmatch(call.lower(), a.lower()) for a in allowed)
            in_key_policy = (
                resource_type in KEY_POLICY_GRANTS_FOR
                and call.startswith("kms:")
                and call != "kms:CreateKey"  # no key, no key policy yet
                and key_policy_grants_cloudformation(resources, call)
            )
            check(
                in_iam or in_key_policy,
                f"{pipeline_path}: CloudFormationExecutionRole cannot {call} ({resource_type})",
            )


def contract_shaped(template, where):
    """A response body template is JSON with exactly `code` and `message` (strings)."""
    text = template.replace("$context.error.messageString", '"an API Gateway message"')
    try:
        body = json.loads(text)
    except ValueError:
        body = None
    check(
        isinstance(body, dict) and set(body) == {"code", "message"} and all(isinstance(v, str) for v in body.values()),
        f"{where} is not in the contract's shape {{\"code\",\"message\"}}: {template}",
    )


def check_api(resources, where):
    api = resources["Api"]
    check(api["Type"] == "AWS::ApiGateway::RestApi", f"{where} Api is a {api['Type']}, not a REST API")
    body = api["Properties"]["Body"]
    check(
        api["Properties"].get("EndpointConfiguration", {}).get("Types") == ["REGIONAL"],
        f"{where} the REST API is not regional: {api['Properties'].get('EndpointConfiguration')}",
    )
    paths = body.get("paths", {})
    for path, methods in ROUTES.items():
        missing = methods - set(paths.get(path, {}))
        check(not missing, f"{where} {path} lacks {sorted(missing)}")
    for path, methods in paths.items():
        for method, operation in methods.items():
            integration = operation.get("x-amazon-apigateway-integration", {})
            uri = json.dumps(integration.get("uri"))
            check(
                integration.get("type") == "aws_proxy" and "${%s}" % ALIAS in uri,
                f"{where} {method} {path} does not target the alias: {uri}",
            )
    responses = body.get("x-amazon-apigateway-gateway-responses", {})
    for kind, status in GATEWAY_RESPONSES.items():
        response = responses.get(kind)
        check(response, f"{where} no gateway response for {kind}")
        if response:
            check(response.get("statusCode") == status, f"{where} {kind} answers {response.get('statusCode')}, not {status}")
            templates = response.get("responseTemplates", {})
            check(list(templates) == ["application/json"], f"{where} {kind} is not application/json: {list(templates)}")
            for template in templates.values():
                contract_shaped(template, f"{where} gateway response {kind}")

    stages = [r["Properties"] for r in resources.values() if r["Type"] == "AWS::ApiGateway::Stage"]
    check(len(stages) == 1, f"{where} {len(stages)} stages, not one")
    for stage in stages:
        check(stage.get("TracingEnabled") is True, f"{where} the stage is not traced")
        check(
            stage.get("AccessLogSetting", {}).get("DestinationArn") == {"Fn::GetAtt": ["ApiAccessLogGroup", "Arn"]},
            f"{where} the stage does not write access logs to ApiAccessLogGroup",
        )
        throttled = [
            m
            for m in stage.get("MethodSettings", [])
            if m.get("ResourcePath") == "/*"
            and m.get("HttpMethod") == "*"
            and m.get("ThrottlingRateLimit") == {"Ref": "ThrottlingRateLimit"}
            and m.get("ThrottlingBurstLimit") == {"Ref": "ThrottlingBurstLimit"}
        ]
        check(throttled, f"{where} the stage has no stage-wide throttling: {stage.get('MethodSettings')}")


HS256_KEY = {"PasswordLength": 64, "ExcludePunctuation": True}
EDDSA_KEY = {"SecretStringTemplate": '{"alg":"EdDSA"}', "GenerateStringKey": "key", **HS256_KEY}


def check_key_secrets(template, resources, where):
    """CONTRACT.md §8: an HS256 key's SecretString is the key; an EdDSA key's the JSON object
    {"alg":"EdDSA","key":...}, as GenerateSecretString makes it from this template and key."""
    client = resources["ClientTokenSecret"]["Properties"].get("GenerateSecretString")
    check(client == HS256_KEY, f"{where} the client-token key is not generated as an HS256 key: {client}")
    session = resources["SessionTokenSecret"]["Properties"].get("GenerateSecretString")
    check(
        session == {"Fn::If": ["SessionTokenEdDSA", EDDSA_KEY, HS256_KEY]},
        f"{where} the session-token key is not generated in SessionTokenAlg's form: {session}",
    )
    condition = template.get("Conditions", {}).get("SessionTokenEdDSA")
    check(
        condition == {"Fn::Equals": [{"Ref": "SessionTokenAlg"}, "EdDSA"]},
        f"{where} SessionTokenEdDSA is not SessionTokenAlg == EdDSA: {condition}",
    )


def arn_of(logical_id):
    return {"Fn::GetAtt": [logical_id, "Arn"]}


CLOUDFORMATION_ROLE = {"Fn::If": ["HasCloudFormationRole", {"Ref": "CloudFormationRoleArn"}, {"Ref": "AWS::NoValue"}]}
VIA_SECRETS_MANAGER = {"kms:ViaService": {"Fn::Sub": "secretsmanager.${AWS::Region}.amazonaws.com"}}
CRYPTO = {"kms:encrypt", "kms:decrypt", "kms:reencrypt*", "kms:reencryptfrom", "kms:reencryptto", "kms:generatedatakey*", "kms:generatedatakey"}


# The session key's HS256 verifiers, named by the deployer (the only other exemption a
# key's policy may make): exact ARNs, and only when some are named.
NAMED_READERS = {
    "Fn::If": ["HasSessionKeyReaders", {"aws:PrincipalArn": {"Ref": "SessionKeyReaderArns"}}, {"Ref": "AWS::NoValue"}]
}


def check_keys_protection(resources, where):
    key = resources.get(KEY, {})
    props = key.get("Properties", {})
    check(key.get("Type") == "AWS::KMS::Key", f"{where} no KMS key {KEY}")
    check(props.get("EnableKeyRotation") is True, f"{where} {KEY} is not rotated")
    check(key.get("DeletionPolicy") == "Retain", f"{where} {KEY} is not retained with the secrets it decrypts")
    for secret in SECRETS:
        check(
            resources[secret]["Properties"].get("KmsKeyId") == {"Ref": KEY},
            f"{where} {secret} is not encrypted with {KEY}",
        )
    statements = statements_of(props.get("KeyPolicy", {}))
    for s in statements:
        check(s.get("Effect") == "Allow", f"{where} {KEY}'s policy has a Deny (lockout risk): {s.get('Sid')}")
        actions = {a.lower() for a in as_list(s.get("Action", []))}
        uses = actions & CRYPTO or any(a in ("kms:*", "*") for a in actions)
        if uses:
            check(
                s.get("Condition", {}).get("StringEquals", {}).get("kms:ViaService") == VIA_SECRETS_MANAGER["kms:ViaService"],
                f"{where} {KEY}'s policy grants {sorted(actions & CRYPTO) or sorted(actions)} outside Secrets Manager: {s.get('Sid')}",
            )

    def granted(principal):
        return {
            a.lower()
            for s in statements
            if s.get("Principal", {}).get("AWS") == principal
            for a in as_list(s.get("Action", []))
        }

    root = {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"}
    check("kms:put*" in granted(root), f"{where} the account cannot administer {KEY} (kms:Put*): lockout")
    check(granted(arn_of("FunctionRole")) == {"kms:decrypt"}, f"{where} the function may {granted(arn_of('FunctionRole'))} with {KEY}, not only decrypt")
    check(
        granted(arn_of("AdminRole")) == {"kms:decrypt", "kms:encrypt", "kms:generatedatakey"},
        f"{where} the admin role may {granted(arn_of('AdminRole'))} with {KEY}",
    )

    for secret in SECRETS:
        policies = [
            r["Properties"]
            for r in resources.values()
            if r["Type"] == "AWS::SecretsManager::ResourcePolicy" and r["Properties"].get("SecretId") == {"Ref": secret}
        ]
        check(len(policies) == 1, f"{where} {secret} has {len(policies)} resource policies, not one")
        for name, r in resources.items():
            if r["Type"] == "AWS::SecretsManager::ResourcePolicy" and r["Properties"].get("SecretId") == {"Ref": secret}:
                check(
                    ALIAS in as_list(r.get("DependsOn", [])),
                    f"{where} {name} may be created while a version whose role it refuses still takes traffic"
                    f" (DependsOn {ALIAS})",
                )
        for policy in policies:
            check(policy.get("BlockPublicPolicy") is True, f"{where} {secret}'s policy does not block public policies")
            denies = {}
            for s in statements_of(policy.get("ResourcePolicy", {})):
                check(s.get("Effect") == "Deny", f"{where} {secret}'s policy allows something: {s.get('Sid')}")
                condition = s.get("Condition", {})
                exempt = condition.get("ArnNotEquals", {}).get("aws:PrincipalArn", [])
                named = condition.get("StringNotEquals")
                check(
                    set(condition) <= {"ArnNotEquals", "StringNotEquals"}
                    and (named is None or (secret == "SessionTokenSecret" and named == NAMED_READERS)),
                    f"{where} {secret}'s policy exempts something else: {condition}",
                )
                for action in as_list(s.get("Action", [])):
                    denies[action] = (exempt, named is not None)
            read = [arn_of(r) for r in ROLES_THAT_READ_KEYS] + [CLOUDFORMATION_ROLE]
            write = [arn_of(r) for r in ROLES_THAT_WRITE_KEYS] + [CLOUDFORMATION_ROLE]
            verifiers = secret == "SessionTokenSecret"
            expected = {
                "secretsmanager:GetSecretValue": (read, verifiers),
                "secretsmanager:PutSecretValue": (write, False),
                "secretsmanager:UpdateSecret": (write, False),
                "secretsmanager:UpdateSecretVersionStage": (write, False),
            }
            for action in sorted(set(expected) | set(denies)):
                check(
                    denies.get(action) == expected.get(action),
                    f"{where} {secret}'s policy denies {action} to all but {denies.get(action)},"
                    f" not to all but {expected.get(action)}",
                )


BOUNDARY = "arn:aws:iam::123456789012:policy/boundary"


def evaluate(value, parameters, conditions):
    """The value of an intrinsic-bearing `value` for the given parameters (Ref, Fn::If,
    Fn::Equals, Fn::Not, Fn::And, Fn::Or, Condition); AWS::NoValue is None."""
    if isinstance(value, list):
        return [v for v in (evaluate(i, parameters, conditions) for i in value) if v is not None]
    if not isinstance(value, dict):
        return value
    if list(value) == ["Ref"]:
        name = value["Ref"]
        return None if name == "AWS::NoValue" else parameters.get(name, value)
    if list(value) == ["Condition"]:
        return evaluate(conditions[value["Condition"]], parameters, conditions)
    if list(value) == ["Fn::If"]:
        name, then, otherwise = value["Fn::If"]
        chosen = then if evaluate(conditions[name], parameters, conditions) else otherwise
        return evaluate(chosen, parameters, conditions)
    if list(value) == ["Fn::Equals"]:
        a, b = (evaluate(v, parameters, conditions) for v in value["Fn::Equals"])
        return a == b
    if list(value) == ["Fn::Not"]:
        return not evaluate(value["Fn::Not"][0], parameters, conditions)
    if list(value) == ["Fn::And"]:
        return all(evaluate(v, parameters, conditions) for v in value["Fn::And"])
    if list(value) == ["Fn::Or"]:
        return any(evaluate(v, parameters, conditions) for v in value["Fn::Or"])
    return {k: evaluate(v, parameters, conditions) for k, v in value.items()}


def check_boundary(template, where, pipeline_path):
    resources = template["Resources"]
    conditions = template.get("Conditions", {})
    roles = {n: r for n, r in resources.items() if r["Type"] == "AWS::IAM::Role"}
    check(roles, f"{where} no role")
    for name, role in roles.items():
        boundary = role["Properties"].get("PermissionsBoundary")
        for value, expected in [(BOUNDARY, BOUNDARY), ("", None)]:
            got = evaluate(boundary, {"PermissionsBoundaryArn": value}, conditions)
            check(
                got == expected,
                f"{where} {name}'s PermissionsBoundary is {got} with PermissionsBoundaryArn={value!r}, not {expected}",
            )

    # Everything the roles' policies grant is within the pipeline's boundary.
    pipeline = yaml_parse(open(pipeline_path).read())
    boundary = pipeline["Resources"]["StackRolesBoundary"]["Properties"]["PolicyDocument"]["Statement"]
    bounded = [a for s in boundary if s["Effect"] == "Allow" for a in as_list(s["Action"])]
    for name, role in roles.items():
        documents = [p["PolicyDocument"] for p in role["Properties"].get("Policies", [])]
        documents += [
            r["Properties"]["PolicyDocument"]
            for r in resources.values()
            if r["Type"] == "AWS::IAM::ManagedPolicy" and {"Ref": name} in r["Properties"].get("Roles", [])
        ]
        check(
            not role["Properties"].get("ManagedPolicyArns"),
            f"{where} {name} has managed policies outside the stack: {role['Properties'].get('ManagedPolicyArns')}",
        )
        for document in documents:
            for s in statements_of(document):
                if s.get("Effect") != "Allow":
                    continue
                for action in as_list(s["Action"]):
                    check(
                        any(fnmatch.fnmatch(action.lower(), b.lower()) for b in bounded),
                        f"{where} {name} is granted {action}, which {pipeline_path}'s StackRolesBoundary does not allow",
                    )


ROLE_WRITES = ["iam:CreateRole", "iam:PutRolePolicy", "iam:AttachRolePolicy", "iam:PutRolePermissionsBoundary"]


def check_pipeline_boundary(pipeline_path, action_path, workflow_path):
    pipeline = yaml_parse(open(pipeline_path).read())
    resources = pipeline["Resources"]
    check(
        resources.get("StackRolesBoundary", {}).get("Type") == "AWS::IAM::ManagedPolicy",
        f"{pipeline_path}: no StackRolesBoundary managed policy",
    )
    output = pipeline.get("Outputs", {}).get("PermissionsBoundaryArn", {})
    check(
        output.get("Value") == {"Ref": "StackRolesBoundary"} and "Export" in output,
        f"{pipeline_path}: PermissionsBoundaryArn is not output and exported",
    )
    role = resources["CloudFormationExecutionRole"]["Properties"]
    statements = [s for p in role["Policies"] for s in p["PolicyDocument"]["Statement"]]
    for action in ROLE_WRITES:
        granting = [s for s in statements if s["Effect"] == "Allow" and any(fnmatch.fnmatch(action.lower(), a.lower()) for a in as_list(s["Action"]))]
        check(granting, f"{pipeline_path}: the execution role cannot {action}")
        for s in granting:
            check(
                s.get("Condition", {}).get("StringEquals", {}).get("iam:PermissionsBoundary") == {"Ref": "StackRolesBoundary"},
                f"{pipeline_path}: {s.get('Sid')} grants {action} without the boundary (iam:PermissionsBoundary)",
            )
    check(
        any(
            s["Effect"] == "Deny" and "iam:DeleteRolePermissionsBoundary" in as_list(s["Action"]) and s.get("Resource") == "*"
            for s in statements
        ),
        f"{pipeline_path}: the execution role is not denied iam:DeleteRolePermissionsBoundary",
    )
    action = open(action_path).read()
    for passed in ["PermissionsBoundaryArn=$PERMISSIONS_BOUNDARY_ARN", "CloudFormationRoleArn=$CFN_ROLE_ARN"]:
        check(passed in action, f"{action_path}: sam deploy does not pass {passed}")
    workflow = open(workflow_path).read()
    check(
        workflow.count("permissions-boundary-arn: ${{ vars.PERMISSIONS_BOUNDARY_ARN }}") == workflow.count("uses: ./.github/actions/sam-deploy")
        and "uses: ./.github/actions/sam-deploy" in workflow,
        f"{workflow_path}: a deploy job does not pass permissions-boundary-arn",
    )


def check_waf(resources, where):
    acl = resources.get("WebAcl", {})
    props = acl.get("Properties", {})
    check(acl.get("Type") == "AWS::WAFv2::WebACL", f"{where} no WebAcl")
    check(props.get("Scope") == "REGIONAL", f"{where} the web ACL is not REGIONAL (a REST API stage's)")
    check(acl.get("Condition") == "HasWaf", f"{where} the web ACL is not under WafEnabled (HasWaf)")
    bodies = props.get("CustomResponseBodies", {})
    rate_rules = []
    for rule in props.get("Rules", []):
        statement = rule.get("Statement", {}).get("RateBasedStatement")
        if not statement:
            continue
        response = rule.get("Action", {}).get("Block", {}).get("CustomResponse", {})
        body = bodies.get(response.get("CustomResponseBodyKey"), {})
        if (
            statement.get("AggregateKeyType") == "IP"
            and statement.get("Limit") == {"Ref": "WafRateLimit"}
            and statement.get("EvaluationWindowSec") == 60
            and response.get("ResponseCode") == 429
            and body.get("ContentType") == "APPLICATION_JSON"
        ):
            rate_rules.append(rule)
            contract_shaped(body.get("Content", ""), f"{where} the rate rule's 429 body")
    check(
        rate_rules,
        f"{where} no per-IP rate-based rule (WafRateLimit a minute) blocking with a JSON 429",
    )
    association = resources.get("WebAclAssociation", {})
    check(association.get("Condition") == "HasWaf", f"{where} the web ACL association is not under HasWaf")
    arn = json.dumps(association.get("Properties", {}).get("ResourceArn"))
    check(
        "/restapis/${Api}/stages/${ApiStage}" in arn,
        f"{where} the web ACL is not associated with the API's stage: {arn}",
    )
    check(
        association.get("Properties", {}).get("WebACLArn") == {"Fn::GetAtt": ["WebAcl", "Arn"]},
        f"{where} the association is not of WebAcl",
    )


def main():
    # The translator's own warnings (feature toggles, its usage metrics) are not findings.
    logging.disable(logging.WARNING)
    path = sys.argv[1] if len(sys.argv) > 1 else "template.yaml"
    os.environ.setdefault("AWS_DEFAULT_REGION", os.environ.get("AWS_REGION", "us-east-1"))
    for deployment_type in ["AllAtOnce", "Canary10Percent5Minutes"]:
        template = transformed(path, deployment_type)
        resources = template["Resources"]
        where = f"[DeploymentType={deployment_type}]"
        root = os.path.dirname(os.path.abspath(path))
        pipeline_path = os.path.join(root, ".github", "github-oidc.yaml")
        if deployment_type == "AllAtOnce":
            check_execution_role(resources, pipeline_path)
            check_pipeline_boundary(
                pipeline_path,
                os.path.join(root, ".github", "actions", "sam-deploy", "action.yml"),
                os.path.join(root, ".github", "workflows", "deploy.yml"),
            )

        check_api(resources, where)
        check_waf(resources, where)
        check_key_secrets(template, resources, where)
        check_keys_protection(resources, where)
        check(
            template.get("Conditions", {}).get("HasSessionKeyReaders")
            == {"Fn::Not": [{"Fn::Equals": [{"Fn::Join": ["", {"Ref": "SessionKeyReaderArns"}]}, ""]}]},
            f"{where} HasSessionKeyReaders is not 'SessionKeyReaderArns is not empty'",
        )
        check_boundary(template, where, pipeline_path)
        permissions = [r for r in resources.values() if r["Type"] == "AWS::Lambda::Permission"]
        check(permissions, f"{where} no invoke permission")
        for p in permissions:
            target = p["Properties"]["FunctionName"]
            check(target == {"Ref": ALIAS}, f"{where} an invoke permission is not on the alias: {target}")

        alias = resources.get(ALIAS, {})
        check(alias, f"{where} no `live` alias (AutoPublishAlias)")
        check(
            "CodeDeployLambdaAliasUpdate" in alias.get("UpdatePolicy", {}),
            f"{where} the alias is not shifted by CodeDeploy (DeploymentPreference)",
        )
        group = resources.get(FUNCTION + "DeploymentGroup", {}).get("Properties")
        check(group, f"{where} no deployment group (DeploymentPreference)")
        if group:
            alarms = [a["Name"] for a in group["AlarmConfiguration"]["Alarms"]]
            check(
                alarms == [{"Ref": a} for a in ROLLBACK_ALARMS],
                f"{where} rollback alarms are {alarms}, not {ROLLBACK_ALARMS}",
            )
            check(group["AlarmConfiguration"]["Enabled"] is True, f"{where} rollback alarms disabled")
            check(
                "DEPLOYMENT_STOP_ON_ALARM" in group["AutoRollbackConfiguration"]["Events"],
                f"{where} no rollback on alarm",
            )
            config = json.dumps(group["DeploymentConfigName"])
            check(deployment_type in config, f"{where} deployment config is {config}")

        env = resources[FUNCTION]["Properties"]["Environment"]["Variables"]
        check(
            env.get("METRICS_NAMESPACE") == {"Ref": "AWS::StackName"},
            f"{where} METRICS_NAMESPACE is {env.get('METRICS_NAMESPACE')}",
        )
        check(
            env.get("METRICS_CLIENT_DIMENSION") == {"Ref": "MetricsClientDimension"},
            f"{where} METRICS_CLIENT_DIMENSION is {env.get('METRICS_CLIENT_DIMENSION')}",
        )

        used, body = stack_namespace_metrics(resources)
        check(used, f"{where} no alarm or dashboard metric in the stack's namespace")
        unknown = used - CONTRACT_METRICS
        check(not unknown, f"{where} metrics the function does not emit: {sorted(unknown)}")
        all_alarms = [n for n, r in resources.items() if r["Type"] == "AWS::CloudWatch::Alarm"]
        for name in all_alarms:
            check("${%s.Arn}" % name in body, f"{where} the dashboard does not show {name}")

    check_samconfig(path, os.path.join(os.path.dirname(os.path.abspath(path)), "samconfig.toml"))
    check_waf_parameters(path)

    if failures:
        print("check_template: FAILED", file=sys.stderr)
        for f in failures:
            print("  - " + f, file=sys.stderr)
        sys.exit(1)
    print(
        f"check_template: {path}: every route of the REST API targets the alias; WAF limits each IP;"
        f" rollback on {', '.join(ROLLBACK_ALARMS)};"
        " metrics match the contract; samconfig.toml matches the parameters; every role is bounded;"
        " the pipeline's execution role covers the stack's resources"
    )


if __name__ == "__main__":
    main()

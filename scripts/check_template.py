"""Checks template.yaml as CloudFormation will run it: transformed by the SAM translator
(offline, the version SAM CLI installs) with dev's and prod's deployment types.

- the HTTP API's integration and its invoke permission target the `live` alias, not the
  function (so CodeDeploy's traffic shifting is what callers get);
- the deployment group rolls back on exactly the rollback alarms, with the configured type;
- the function gets METRICS_NAMESPACE = the stack name and METRICS_CLIENT_DIMENSION;
- every alarm and dashboard metric in the stack's namespace is one the function emits
  (the metric contract, README "Operations"), and the dashboard shows every alarm;
- samconfig.toml's parameter_overrides name template parameters with allowed values, and
  deploy dev all at once and prod as a canary.

Run by scripts/sam_checks.sh: .venv/bin/python scripts/check_template.py [template.yaml]
"""

import json
import logging
import os
import re
import sys

from samtranslator.translator.transform import transform
from samtranslator.yaml_helper import yaml_parse

FUNCTION = "CreateBiometricValidationFunction"
ALIAS = FUNCTION + "Aliaslive"
ROLLBACK_ALARMS = ["InternalErrorRateAlarm", "UnavailableRateAlarm", "FunctionErrorsAlarm"]
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
            allowed = parameters.get(name, {}).get("AllowedValues")
            check(not allowed or value in [str(a) for a in allowed], f"{where}: not one of {allowed}")
    check(environments.get("dev", {}).get("DeploymentType") == "AllAtOnce", "dev is not deployed AllAtOnce")
    check(
        environments.get("prod", {}).get("DeploymentType", "").startswith("Canary"),
        "prod is not deployed as a canary",
    )


def main():
    # The translator's own warnings (feature toggles, its usage metrics) are not findings.
    logging.disable(logging.WARNING)
    path = sys.argv[1] if len(sys.argv) > 1 else "template.yaml"
    os.environ.setdefault("AWS_DEFAULT_REGION", os.environ.get("AWS_REGION", "us-east-1"))
    for deployment_type in ["AllAtOnce", "Canary10Percent5Minutes"]:
        resources = transformed(path, deployment_type)["Resources"]
        where = f"[DeploymentType={deployment_type}]"

        api = resources["HttpApi"]["Properties"]["Body"]
        integration = api["paths"]["/v2/biometric-validations"]["post"]["x-amazon-apigateway-integration"]
        uri = json.dumps(integration["uri"])
        check("${%s}" % ALIAS in uri, f"{where} the API integration does not target the alias: {uri}")
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

    if failures:
        print("check_template: FAILED", file=sys.stderr)
        for f in failures:
            print("  - " + f, file=sys.stderr)
        sys.exit(1)
    print(
        f"check_template: {path}: the API targets the alias; rollback on {', '.join(ROLLBACK_ALARMS)};"
        " metrics match the contract; samconfig.toml matches the parameters"
    )


if __name__ == "__main__":
    main()

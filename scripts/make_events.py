"""Writes the API Gateway fixtures in events/ (HTTP API payload 2.0 and REST API payload 1.0).

    .venv/bin/python scripts/make_events.py

Their token is a client token of the demo client that never expires (exp 4102444800, in
2100), without a kid, signed with the documented local client-token key: both from
src/demo.rs, the one place they are written. PyJWT comes with `make test`'s .venv.
"""

import base64
import json
import re
from pathlib import Path

import jwt

ROOT = Path(__file__).resolve().parent.parent
DEMO = (ROOT / "src" / "demo.rs").read_text()


def demo(name):
    return re.search(rf'pub const {name}: &str = "([^"]+)";', DEMO).group(1)


CLIENT = demo("CLIENT")
PROJECT = demo("PROJECT")
LOGIN_FLOW = demo("LOGIN_FLOW")
ONBOARDING_FLOW = demo("ONBOARDING_FLOW")
PATH = "/v2/biometric-validations"


def body(**fields):
    base = {"project": PROJECT, "projectFlow": LOGIN_FLOW, "identifier": "03da12fba", "type": "login"}
    base.update(fields)
    return json.dumps({k: v for k, v in base.items() if v is not None}, separators=(",", ":"))


def http_api(body_text, token, stage="$default", method="POST", b64=False):
    headers = {"content-type": "application/json", "host": "api.example.com", "user-agent": "curl/8.5.0"}
    if token:
        headers["authorization"] = f"Bearer {token}"
    raw_path = PATH if stage == "$default" else f"/{stage}{PATH}"
    return {
        "version": "2.0",
        "routeKey": f"POST {PATH}",
        "rawPath": raw_path,
        "rawQueryString": "",
        "headers": headers,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "a1b2c3d4e5",
            "domainName": "a1b2c3d4e5.execute-api.us-east-1.amazonaws.com",
            "domainPrefix": "a1b2c3d4e5",
            "http": {"method": method, "path": raw_path, "protocol": "HTTP/1.1", "sourceIp": "192.0.2.10", "userAgent": "curl/8.5.0"},
            "requestId": "JKJaXmPLvHcESHA=",
            "routeKey": f"POST {PATH}",
            "stage": stage,
            "time": "12/Sep/2024:17:26:26 +0000",
            "timeEpoch": 1726161986954,
        },
        "body": base64.b64encode(body_text.encode()).decode() if b64 else body_text,
        "isBase64Encoded": b64,
    }


def rest_api(body_text, token, stage="prod", method="POST"):
    headers = {"Content-Type": "application/json", "Host": "a1b2c3d4e5.execute-api.us-east-1.amazonaws.com"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return {
        "resource": PATH,
        "path": PATH,
        "httpMethod": method,
        "headers": headers,
        "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": None,
        "stageVariables": None,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "a1b2c3d4e5",
            "domainName": "a1b2c3d4e5.execute-api.us-east-1.amazonaws.com",
            "httpMethod": method,
            "identity": {"sourceIp": "192.0.2.10", "userAgent": "curl/8.5.0"},
            "path": f"/{stage}{PATH}",
            "protocol": "HTTP/1.1",
            "requestId": "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
            "requestTimeEpoch": 1726161986954,
            "resourceId": "abc123",
            "resourcePath": PATH,
            "stage": stage,
        },
        "body": body_text,
        "isBase64Encoded": False,
    }


def main():
    token = jwt.encode({"clientId": CLIENT, "exp": 4102444800}, demo("CLIENT_TOKEN_KEY"), algorithm="HS256")
    out = ROOT / "events"
    events = {
        "http-api-login.json": http_api(body(), token),
        "http-api-onboarding.json": http_api(body(projectFlow=ONBOARDING_FLOW, type="onboarding", identifier="new-user-77", language="es"), token),
        "http-api-login-base64.json": http_api(body(), token, b64=True),
        "http-api-named-stage.json": http_api(body(type="validation"), token, stage="prod"),
        "http-api-missing-field.json": http_api(body(identifier=None), token),
        "http-api-bad-type.json": http_api(body(type="signup"), token),
        "http-api-type-mismatch.json": http_api(body(type="onboarding"), token),
        "http-api-unknown-project.json": http_api(body(project="66df5bf5c4d855fb0bdf5dff"), token),
        "http-api-no-token.json": http_api(body(), None),
        "http-api-get.json": http_api("", token, method="GET"),
        "rest-api-login.json": rest_api(body(), token),
        "rest-api-missing-field.json": rest_api(body(identifier=None), token),
        "rest-api-bad-type.json": rest_api(body(type="signup"), token),
        "rest-api-no-token.json": rest_api(body(), None),
    }
    for name, event in events.items():
        (out / name).write_text(json.dumps(event, indent=2) + "\n")
        print(f"wrote events/{name}")


if __name__ == "__main__":
    main()

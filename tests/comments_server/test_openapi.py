"""/api/openapi.json stays true: every api route documented, nothing documented that isn't there.

Every /api response in the other tests is validated against it by the ApiClient in conftest.py.
"""

from __future__ import annotations

import re

import pytest
from jsonschema import Draft202012Validator, ValidationError

from tests.support.server import POST, check_against_openapi


def api_operations(app):
    operations = set()
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("api."):
            continue
        path = re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", r"{\1}", rule.rule)
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            operations.add((path, method.lower()))
    return operations


def test_document_is_served(client):
    response = client.get("/api/openapi.json")
    assert response.status_code == 200
    doc = response.get_json()
    assert doc["openapi"].startswith("3.1")
    assert doc["components"]["schemas"]["Error"]["required"] == ["error"]


def test_every_api_route_is_documented_and_nothing_else(client, app):
    doc = client.get("/api/openapi.json").get_json()
    documented = {(path, method) for path, ops in doc["paths"].items() for method in ops}
    assert documented == api_operations(app)


def test_operation_ids_match_endpoints(client, app):
    doc = client.get("/api/openapi.json").get_json()
    endpoints = {rule.endpoint.removeprefix("api.") for rule in app.url_map.iter_rules()
                 if rule.endpoint.startswith("api.")}
    ids = {op["operationId"] for ops in doc["paths"].values() for op in ops.values()}
    assert ids == endpoints


def test_every_operation_documents_its_parameters(client, app):
    doc = client.get("/api/openapi.json").get_json()
    for path, ops in doc["paths"].items():
        for name in re.findall(r"\{([a-z_]+)\}", path):
            for op in ops.values():
                assert any(p["name"] == name and p["in"] == "path" for p in op.get("parameters", [])), (path, name)


def test_schemas_are_valid_json_schema(client):
    doc = client.get("/api/openapi.json").get_json()
    for name, schema in doc["components"]["schemas"].items():
        Draft202012Validator.check_schema(schema)


def test_the_checker_catches_an_undocumented_field(client):
    """The validation in conftest must fail on a response that drifts from the document."""
    body = client.get("/api/comments", query_string={"thread": POST}).get_data()
    drifted = body.replace(b'"count"', b'"extra": 1, "count"')
    with pytest.raises(ValidationError):
        check_against_openapi("GET", "/api/comments", 200, drifted, "application/json")
    with pytest.raises(AssertionError):
        check_against_openapi("GET", "/api/comments", 299, body, "application/json")
    with pytest.raises(ValidationError):
        check_against_openapi("GET", "/api/comments", 404, b'{"error": {"code": "x"}}', "application/json")

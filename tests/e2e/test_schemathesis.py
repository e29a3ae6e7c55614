"""Schemathesis fuzzes the API from its own OpenAPI document, against a real server.

`python -m comments_server serve` runs in a subprocess on a free port, on SQLite in tmp, with the
rate limits and the form-token wait off (so the fuzzing is not all 429s and 400 too_fast), and with
unknown threads allowed (so generated paths reach the storage instead of stopping at 404). Every
operation gets a bounded number of examples per phase (examples, coverage, fuzzing) from a fixed
seed, then the state machine follows the document's links (post, read, edit, delete). Every check
runs: no 5xx, status codes, content types, headers and bodies as documented, schema-valid requests
accepted and schema-invalid ones refused; plus the one error shape, {"error": {code, message, field}}.

The figures (examples sent, failures) are printed and written to test-artifacts/schemathesis.json.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from typing import Any

import hypothesis
import pytest
import schemathesis
from schemathesis import Case, CheckContext, Response

from comments_server.api.openapi import openapi_document
from comments_server.models import Limits
from comments_server.service import Policy
from tests.support import REPO
from tests.support.live import LiveServer, LiveServers
from tests.support.server import AUTHOR_TOKEN, assert_error, new_comment, write_manifest

SEED = 20240501
# Examples per operation in each generated phase; the state machine runs STATEFUL_SCENARIOS scenarios.
EXAMPLES = 100
STATEFUL_SCENARIOS = 25
ARTIFACT = REPO / "test-artifacts" / "schemathesis.json"
ERROR_KEYS = {"code", "message", "field"}
# Refusing data the document says is invalid: the API's statuses for that, 413 (too long) included.
REJECTION_STATUSES = ["400", "401", "403", "404", "405", "409", "413", "415", "429"]
# Answers a schema-valid request may still get, because of what came before it: schemathesis's
# defaults, plus 422 for an Idempotency-Key it already sent with another request (the IETF
# idempotency-key draft's answer to a reused key).
ACCEPTANCE_STATUSES = ["2xx", "3xx", "401", "403", "404", "409", "422", "429", "5xx"]

STATS: Counter[str] = Counter()
FAILED: dict[str, str] = {}


def error_shape(ctx: CheckContext, response: Response, case: Case) -> bool | None:
    """Every 4xx and 5xx answer is {"error": {"code", "message", "field"}} and JSON."""
    if response.status_code < 400:
        return None
    content_type = response.headers.get("content-type", [""])[0]
    assert content_type.startswith("application/json"), f"{response.status_code} answered {content_type}"
    body = json.loads(response.content)
    assert isinstance(body, dict) and set(body) == {"error"}, f"not the error shape: {body!r}"
    error = body["error"]
    assert isinstance(error, dict) and set(error) == ERROR_KEYS, f"not the error shape: {body!r}"
    assert isinstance(error["code"], str) and error["code"], body
    assert isinstance(error["message"], str) and error["message"], body
    assert error["field"] is None or isinstance(error["field"], str), body
    return True


def fuzz_config() -> schemathesis.Config:
    return schemathesis.Config.from_dict({
        "seed": SEED,
        "generation": {"max-examples": EXAMPLES, "database": "none", "deterministic": True},
        "checks": {
            "negative_data_rejection": {"expected-statuses": REJECTION_STATUSES},
            "positive_data_acceptance": {"expected-statuses": ACCEPTANCE_STATUSES},
        },
        "auth": {"openapi": {"authorToken": {"bearer": AUTHOR_TOKEN}}},
    })


@pytest.fixture(scope="module")
def fuzz_server(tmp_path_factory: pytest.TempPathFactory, module_live_servers: LiveServers) -> Iterator[LiveServer]:
    tmp = tmp_path_factory.mktemp("fuzz")
    write_manifest(tmp / "public" / "threads.json")
    server = module_live_servers.comments(tmp, DATABASE_URL=f"sqlite:///{tmp / 'fuzz.sqlite3'}",
                                          ALLOW_UNKNOWN_THREADS="true", MAIL_HOST="")
    yield server
    server.stop()
    if FAILED:
        print(f"--- fuzzed server output ---\n{server.output()[-20000:]}")


# Loaded from the code that serves it (the base URL is the fuzzed server's, given per call);
# test_served_document_is_the_fuzzed_one checks the server serves this very document.
# The fuzzed server's settings, as the document it serves reflects them.
DOCUMENT = openapi_document(Limits(), Policy(min_submit_seconds=None, allow_unknown_threads=True))
schema = schemathesis.openapi.from_dict(DOCUMENT, config=fuzz_config())


def test_served_document_is_the_fuzzed_one(fuzz_server: Any) -> None:
    status, _headers, body = fuzz_server.request("GET", "/api/openapi.json")
    assert status == 200 and json.loads(body) == DOCUMENT


@schema.parametrize()
@hypothesis.settings(deadline=None, suppress_health_check=list(hypothesis.HealthCheck))
def test_api_matches_its_openapi_document(case: Case, fuzz_server: Any) -> None:
    label = f"{case.method} {case.path}"
    STATS["examples"] += 1
    documented = case.method.lower() in DOCUMENT["paths"].get(case.path, {})
    # The coverage phase also tries each path with methods it does not take (405 expected).
    STATS[f"examples {label}" if documented else "undocumented method probes"] += 1
    try:
        response = case.call(base_url=fuzz_server.url)
        STATS[f"status {label} {response.status_code}"] += 1
        case.validate_response(response, additional_checks=[error_shape])
    except Exception as exc:
        STATS["failed examples"] += 1
        FAILED.setdefault(label, str(exc)[:2000])
        raise


@pytest.fixture
def stateful_server(tmp_path: Any, live_servers: LiveServers) -> Iterator[LiveServer]:
    """A server of its own, so what the state machine meets does not hang on what the fuzzing
    before it stored (hypothesis needs the same steps to meet the same answers)."""
    write_manifest(tmp_path / "public" / "threads.json")
    server = live_servers.comments(tmp_path, DATABASE_URL=f"sqlite:///{tmp_path / 'stateful.sqlite3'}",
                                   ALLOW_UNKNOWN_THREADS="true", MAIL_HOST="")
    yield server
    server.stop()


def test_stateful_links_hold(stateful_server: Any) -> None:
    """Post, then follow the document's links: read it, edit and delete it with its edit token."""
    fuzz_server = stateful_server
    machine = schema.as_state_machine()

    class Machine(machine):  # type: ignore[misc, valid-type]
        def call(self, case: Case, **kwargs: Any) -> Response:
            STATS["examples"] += 1
            STATS["stateful calls"] += 1
            # Scenarios create a comment and follow its links. A generated Idempotency-Key that an
            # earlier scenario sent with the same body is answered with that earlier comment (the
            # documented first answer), perhaps deleted since: not a creation to follow. The
            # keys themselves are fuzzed in test_api_matches_its_openapi_document.
            if case.headers:
                case.headers.pop("Idempotency-Key", None)
            return super().call(case, base_url=fuzz_server.url, **kwargs)

        def validate_response(self, response: Response, case: Case, **kwargs: Any) -> None:
            STATS[f"stateful {case.method} {case.path} {response.status_code}"] += 1
            try:
                super().validate_response(response, case, additional_checks=[error_shape], **kwargs)
            except Exception as exc:
                STATS["failed examples"] += 1
                FAILED.setdefault(f"stateful {case.method} {case.path}", str(exc)[:2000])
                raise

    Machine.run(settings=hypothesis.settings(
        max_examples=STATEFUL_SCENARIOS, deadline=None, derandomize=True, database=None,
        suppress_health_check=list(hypothesis.HealthCheck), stateful_step_count=8,
    ))
    # The links were followed with real ids and edit tokens: edits and deletes went through.
    assert STATS["stateful GET /api/comments/{comment_id} 200"] > 0
    assert STATS["stateful PATCH /api/comments/{comment_id} 200"] > 0
    assert STATS["stateful DELETE /api/comments/{comment_id} 204"] > 0


def test_fuzzing_figures(capsys: pytest.CaptureFixture[str]) -> None:
    """The figures in docs/operations-and-security.md: requests sent, failures (must be 0); runs after the above."""
    assert STATS["examples"] > 0, "run with the fuzzing tests above (same module)"
    per_operation = {k.removeprefix("examples "): v for k, v in sorted(STATS.items()) if k.startswith("examples ")}
    report = {"seed": SEED, "examples_per_phase": EXAMPLES, "examples": STATS["examples"],
              "stateful_calls": STATS["stateful calls"],
              "undocumented_method_probes": STATS["undocumented method probes"],
              "failed_examples": STATS["failed examples"],
              "failing_operations": sorted(FAILED), "per_operation": per_operation,
              "statuses": {k.removeprefix("status "): v for k, v in sorted(STATS.items()) if k.startswith("status ")}}
    ARTIFACT.parent.mkdir(exist_ok=True)
    ARTIFACT.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    with capsys.disabled():
        print(f"\nschemathesis: {STATS['examples']} requests ({len(per_operation)} operations, "
              f"{STATS['stateful calls']} in stateful scenarios, {STATS['undocumented method probes']} "
              f"with undocumented methods), {len(FAILED)} failures (seed {SEED})")
    assert not FAILED, "\n\n".join(f"{k}:\n{v}" for k, v in FAILED.items())


# What the fuzzing found, pinned with the test client ------------------------------------------------


def test_integral_float_ids_are_ids(client):
    """JSON Schema counts 5846.0 as an integer; so does the server."""
    parent = client.post("/api/comments", json=new_comment()).get_json()
    response = client.post("/api/comments", json=new_comment(parent_id=float(parent["id"])))
    assert response.status_code == 201 and response.get_json()["parent_id"] == parent["id"]
    assert_error(client.post("/api/comments", json=new_comment(parent_id=1.5)), 400, "wrong_type", "parent_id")


def test_unanswered_rejects_an_unknown_sort(client):
    headers = {"Authorization": f"Bearer {AUTHOR_TOKEN}"}
    assert client.get("/api/unanswered", query_string={"sort": "questions"}, headers=headers).status_code == 200
    assert_error(client.get("/api/unanswered", query_string={"sort": "newest"}, headers=headers), 400, "invalid", "sort")


@pytest.mark.parametrize(("field", "limit_key"), [("author_name", "MAX_NAME_LENGTH"), ("author_email", "MAX_EMAIL_LENGTH"),
                                                  ("author_url", "MAX_URL_LENGTH"), ("body", "MAX_BODY_LENGTH")])
def test_length_limits_count_the_characters_sent(make_app, field, limit_key):
    """maxLength in the document counts what is sent: surrounding spaces count too."""
    client = make_app(**{limit_key: 20}).test_client()
    value = {"author_name": "n" * 20, "author_email": "e" * 8 + "@example.org",
             "author_url": "https://e.com/" + "p" * 6, "body": "b" * 20}[field]
    assert client.post("/api/comments", json=new_comment(**{field: value})).status_code == 201
    response = client.post("/api/comments", json=new_comment(**{field: value + " "}))
    assert_error(response, 413 if field == "body" else 400, "too_long", field)


def test_honeypot_must_be_a_string(client):
    assert_error(client.post("/api/comments", json=new_comment(website=5)), 400, "wrong_type", "website")
    assert client.post("/api/comments", json=new_comment(website="filled")).get_json() == {"status": "pending"}


@pytest.mark.parametrize("url", ["https://user@example.com/", "http://[::1]/", "https://example.com@evil.example/",
                                 "http://ex\u00a0ample.com/"])
def test_author_urls_outside_the_documented_pattern_are_refused(client, url):
    assert_error(client.post("/api/comments", json=new_comment(author_url=url)), 400, "invalid", "author_url")


FIELD_SAMPLES = {
    "thread": ["/a/", "/", "//x", "/a b", "/a\tb", "/\u00a0", "/\ufeff", "/a?b", "/a#b", "/a\\b", "a", "", "/\x85",
               "/\u2028", "/é/"],
    "author_name": ["Ann", " Ann ", "", " ", "\u3000", "A\tB", "A\x00", "\u200b", "\ufeff", "<b>"],
    "author_email": ["a@b.co", " a@b.co ", "", "  ", "a@b", "a b@c.de", "a@@b.de", "a@b.c\u00a0", "a@b.c\x85",
                     "\ufeffa@b.c"],
    "author_url": ["https://e.com/", " http://e.com ", "", "ftp://e.com", "https://", "https://e.com/a b",
                   "HTTPS://E.COM", "https://e.com/\"", "https://e.com/`", "https://e\u00a0.com"],
    "body": ["ok", " ok ", "o", " o ", "\n\n", "a\tb", "a\x00b", "a\x0bb", "a\rb", "\u3000x\u3000", "x\u3000y"],
}


@pytest.mark.parametrize("field", list(FIELD_SAMPLES))
def test_document_patterns_agree_with_the_server(client, field):
    """For each sample value, the document's NewComment schema and the server give the same verdict."""
    from jsonschema import Draft202012Validator

    from tests.support.server import OPENAPI, REGISTRY

    validator = Draft202012Validator({"$ref": "urn:openapi#/components/schemas/NewComment"}, registry=REGISTRY)
    assert OPENAPI["components"]["schemas"]["NewComment"]["properties"][field]
    for value in FIELD_SAMPLES[field]:
        data = new_comment(**{field: value})
        documented = validator.is_valid(data)
        response = client.post("/api/comments", json=data)
        accepted = response.status_code in (201, 202) or (
            response.status_code == 404 and response.get_json()["error"]["code"] == "unknown_thread")
        assert documented == accepted, (field, value, response.get_json())

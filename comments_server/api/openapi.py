"""The OpenAPI 3.1 document of the /api blueprint; tests validate real responses against it, and
schemathesis fuzzes a real server from it (tests/server/test_schemathesis.py).

Request schemas say exactly what the server accepts, with the server's own limits: the field
patterns come from models.py, which validates with the same expressions."""

from __future__ import annotations

import copy
from typing import Any

from comments_server.models import (
    BLANK,
    CONTROL,
    EMAIL_PATTERN,
    MAX_ID,
    THREAD_PATH_MAX,
    THREAD_PATTERN,
    URL_PATTERN,
    VISIBLE_CHAR,
    Limits,
)
from comments_server.service import Policy, preview_cap

VERSION = "1"


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _error(description: str) -> dict[str, Any]:
    return _json(_ref("Error"), description)


NULLABLE_STRING = {"type": ["string", "null"]}
TIMESTAMP = {"type": "string", "format": "date-time", "description": "RFC 3339, UTC"}

_COMMENT_PROPERTIES: dict[str, Any] = {
    "id": {"type": "integer", "minimum": 1},
    "parent_id": {"type": ["integer", "null"], "minimum": 1},
    "author_name": {"type": "string", "description": "Plain text; '[deleted]' for a placeholder."},
    "author_url": {**NULLABLE_STRING, "description": "An http(s) URL or null."},
    "is_author": {"type": "boolean", "description": "Posted by the site's author (API token or dashboard)."},
    "body_html": {"type": "string", "description": "Sanitised HTML, safe to insert as is."},
    "created_at": TIMESTAMP,
    "edited_at": {"type": ["string", "null"], "format": "date-time"},
    "deleted": {"type": "boolean", "description": "A deleted comment kept because replies hang below it."},
    "origin": {"enum": ["comment", "webmention", "fediverse"],
               "description": "Where it was written: here, or elsewhere and received (a reply on another blog, "
                              "on the fediverse)."},
    "origin_url": {**NULLABLE_STRING, "description": "A received reply's own page (http(s)); null for comments."},
    "origin_site": {**NULLABLE_STRING, "description": "The host of origin_url, for showing where it came from."},
    "author_photo": {**NULLABLE_STRING, "description": "A received reply's author picture (http(s)) or null."},
    "in_reply_to_url": {**NULLABLE_STRING,
                        "description": "For a reply to a received reply: that reply's own page, else null."},
    "author_handle": {**NULLABLE_STRING,
                      "description": "A fediverse reply's author as `@user@instance`, else null."},
    "replies": {"type": "array", "items": _ref("Comment")},
}

_MENTION_PROPERTIES: dict[str, Any] = {
    "id": {"type": "integer", "minimum": 1},
    "kind": {"enum": ["like", "repost", "bookmark", "mention", "pingback", "trackback", "webmention"]},
    "source_url": {"type": "string", "description": "The page that links to the post."},
    "source_site": NULLABLE_STRING,
    "title": {"type": "string", "description": "Plain text."},
    "author_name": {**NULLABLE_STRING, "description": "Plain text."},
    "author_url": NULLABLE_STRING,
    "author_photo": NULLABLE_STRING,
    "created_at": TIMESTAMP,
}

SCHEMAS: dict[str, Any] = {
    "Error": {
        "type": "object",
        "required": ["error"],
        "additionalProperties": False,
        "properties": {
            "error": {
                "type": "object",
                "required": ["code", "message", "field"],
                "additionalProperties": False,
                "properties": {
                    "code": {"type": "string", "description": "Stable, machine-readable, e.g. too_long."},
                    "message": {"type": "string", "description": "For people."},
                    "field": {**NULLABLE_STRING, "description": "The request field at fault, if one is."},
                },
            }
        },
    },
    "Comment": {
        "type": "object",
        "required": list(_COMMENT_PROPERTIES),
        "additionalProperties": False,
        "properties": _COMMENT_PROPERTIES,
    },
    "CommentCreated": {
        "type": "object",
        "required": [*_COMMENT_PROPERTIES, "edit_token", "editable_until"],
        "additionalProperties": False,
        "properties": {
            **_COMMENT_PROPERTIES,
            "edit_token": {"type": "string", "description": "Send as X-Edit-Token to edit or delete."},
            "editable_until": {"type": ["string", "null"], "format": "date-time"},
        },
    },
    "Pending": {
        "type": "object",
        "required": ["status"],
        "additionalProperties": False,
        "properties": {"status": {"const": "pending"}},
    },
    "Thread": {
        "type": "object",
        "required": ["thread", "title", "open", "count", "comments"],
        "additionalProperties": False,
        "properties": {
            "thread": {"type": "string", "description": "The post's path."},
            "title": {"type": "string"},
            "open": {"type": "boolean", "description": "Whether new comments are accepted."},
            "count": {"type": "integer", "minimum": 0, "description": "Published comments."},
            "comments": {"type": "array", "items": _ref("Comment")},
            "mentions": {
                "type": "array", "items": _ref("Mention"),
                "description": "Likes, reposts, bookmarks and mentions of the post from other sites (received "
                               "Webmentions, imported pingbacks), oldest first. Optional: older servers leave it out.",
            },
            "author_reply_median_seconds": {
                "type": ["integer", "null"], "minimum": 0,
                "description": "How soon the post's author usually answers: the median seconds to the first "
                               "author reply over the last 90 days on their posts; null with fewer than 3 "
                               "answers. Optional: older servers leave it out.",
            },
        },
    },
    "Mention": {
        "type": "object",
        "required": list(_MENTION_PROPERTIES),
        "additionalProperties": False,
        "properties": _MENTION_PROPERTIES,
    },
    "FormToken": {
        "type": "object",
        "required": ["thread", "form_token"],
        "additionalProperties": False,
        "properties": {
            "thread": {"type": "string", "description": "The post's path."},
            "form_token": {"type": "string", "description": "Send back as form_token with the new comment."},
        },
    },
    "UnansweredComment": {
        "type": "object",
        "required": ["id", "thread", "title", "post_url", "mine", "author_name", "body_html", "created_at",
                     "waiting_seconds", "is_question", "parent", "reply_url", "origin", "origin_url"],
        "additionalProperties": False,
        "properties": {
            "id": {"type": "integer", "minimum": 1},
            "thread": {"type": "string"},
            "title": {"type": "string"},
            "post_url": {"type": "string", "description": "The post on the site."},
            "mine": {"type": "boolean", "description": "The post's author is the caller's account."},
            "author_name": {"type": "string", "description": "The reader's name, plain text."},
            "body_html": {"type": "string", "description": "Sanitised HTML."},
            "created_at": TIMESTAMP,
            "waiting_seconds": {"type": "integer", "minimum": 0},
            "is_question": {"type": "boolean", "description": "Has a question mark, or opens like a question."},
            "origin": _COMMENT_PROPERTIES["origin"],
            "origin_url": _COMMENT_PROPERTIES["origin_url"],
            "parent": {
                "oneOf": [
                    {"type": "null"},
                    {
                        "type": "object",
                        "required": ["id", "author_name", "is_author", "body_html"],
                        "additionalProperties": False,
                        "properties": {
                            "id": {"type": "integer", "minimum": 1},
                            "author_name": {"type": "string"},
                            "is_author": {"type": "boolean"},
                            "body_html": {"type": "string"},
                        },
                    },
                ],
                "description": "The comment it replies to, for context.",
            },
            "reply_url": {"type": "string", "description": "Its reply box in the dashboard."},
        },
    },
    "Unanswered": {
        "type": "object",
        "required": ["count", "oldest_waiting_seconds", "snoozed", "comments"],
        "additionalProperties": False,
        "properties": {
            "count": {"type": "integer", "minimum": 0, "description": "Comments in the queue."},
            "oldest_waiting_seconds": {"type": ["integer", "null"], "minimum": 0},
            "snoozed": {"type": "integer", "minimum": 0, "description": "Unanswered but snoozed (not listed)."},
            "comments": {"type": "array", "items": _ref("UnansweredComment")},
        },
    },
    # NewComment, EditComment and Preview depend on the server's limits: see request_schemas().
    "PreviewResult": {
        "type": "object",
        "required": ["body_html"],
        "additionalProperties": False,
        "properties": {"body_html": {"type": "string", "description": "Sanitised HTML, as it would be stored."}},
    },
    "Counts": {
        "type": "object",
        "additionalProperties": {"type": "integer", "minimum": 0},
        "description": "Thread path -> published comments.",
    },
    "ThreadsReloaded": {
        "type": "object",
        "required": ["threads"],
        "additionalProperties": False,
        "properties": {"threads": {"type": "integer", "minimum": 0, "description": "Threads in the reloaded manifest."}},
    },
}

THREAD = {"type": "string", "maxLength": THREAD_PATH_MAX, "pattern": THREAD_PATTERN}
_THREAD_PARAM = {"name": "thread", "in": "query", "required": True, "schema": THREAD,
                 "description": "A post's path, e.g. /2024/05/a-post/."}
_ID_PARAM = {"name": "comment_id", "in": "path", "required": True,
             "schema": {"type": "integer", "minimum": 1, "maximum": MAX_ID}}
_EDIT_TOKEN = {"name": "X-Edit-Token", "in": "header", "required": True, "schema": {"type": "string"}}
_RATE = {"429": _error("Too many requests from this address.")}
_VALIDATORS = {
    "ETag": {"schema": {"type": "string"}, "description": "Changes whenever the body does."},
    "Last-Modified": {"schema": {"type": "string"},
                      "description": "Sent once the latest change is two seconds old."},
    "Cache-Control": {"schema": {"const": "no-cache"}, "description": "Revalidate before each use."},
}


def _cached(schema: dict[str, Any], description: str) -> dict[str, Any]:
    """A 200 with validators, and the 304 a conditional request (If-None-Match, If-Modified-Since) gets."""
    return {
        "200": {**_json(schema, description), "headers": _VALIDATORS},
        "304": {"description": "Not modified: the copy the client holds is current. No body.",
                "headers": _VALIDATORS},
    }

PATHS: dict[str, Any] = {
    "/api/comments": {
        "get": {
            "operationId": "list_thread",
            "summary": "A thread's published comments, nested.",
            "description": "Cacheable: send If-None-Match (or If-Modified-Since) to get 304 while nothing changed.",
            "parameters": [_THREAD_PARAM],
            "responses": {
                **_cached(_ref("Thread"), "The thread."),
                "400": _error("Missing or malformed thread."),
                "404": _error("No such thread in the manifest."),
                **_RATE,
            },
        },
        "post": {
            "operationId": "post_comment",
            "summary": "Post a comment (application/json only).",
            "description": "An `Authorization: Bearer <author token>` header posts as the site's author. With an "
                           "`Idempotency-Key` header, the same request sent again (to any instance, within "
                           "IDEMPOTENCY_KEY_TTL) gets the first answer, marked `Idempotent-Replayed: true`, "
                           "and stores nothing; the key sent with a different request is refused (422).",
            "parameters": [{"name": "Idempotency-Key", "in": "header", "required": False,
                            "schema": {"type": "string", "pattern": "^[!-~]{1,255}$"},
                            "description": "A new random value for each comment being written; the same "
                                           "one when sending it again."}],
            "requestBody": {"required": True, "content": {"application/json": {"schema": _ref("NewComment")}}},
            "responses": {
                "201": {**_json(_ref("CommentCreated"), "Published."), "links": {
                    "GetComment": {"operationId": "get_comment", "parameters": {"comment_id": "$response.body#/id"}},
                    "EditComment": {"operationId": "edit_comment", "parameters": {
                        "comment_id": "$response.body#/id", "header.X-Edit-Token": "$response.body#/edit_token"}},
                    "DeleteComment": {"operationId": "delete_comment", "parameters": {
                        "comment_id": "$response.body#/id", "header.X-Edit-Token": "$response.body#/edit_token"}},
                    "ListThread": {"operationId": "list_thread", "parameters": {"thread": "$request.body#/thread"}},
                }},
                "202": _json(_ref("Pending"), "Held for moderation."),
                "400": _error("A field is missing, of the wrong type, malformed or over a limit."),
                "401": _error("A wrong author token."),
                "403": _error("Comments are closed, or a foreign origin."),
                "404": _error("Unknown thread or parent."),
                "409": _error("The parent comment is in another thread."),
                "413": _error("Body (or the whole request) too long."),
                "415": _error("Not application/json."),
                "422": _error("This Idempotency-Key was sent with a different request."),
                **_RATE,
            },
        },
    },
    "/api/comments/{comment_id}": {
        "get": {
            "operationId": "get_comment",
            "summary": "One published comment (replies empty).",
            "parameters": [_ID_PARAM],
            "responses": {"200": _json(_ref("Comment"), "The comment."), "404": _error("No such comment.")},
        },
        "patch": {
            "operationId": "edit_comment",
            "summary": "Edit a comment's body with its edit token, within the edit window.",
            "parameters": [_ID_PARAM, _EDIT_TOKEN],
            "requestBody": {"required": True, "content": {"application/json": {"schema": _ref("EditComment")}}},
            "responses": {
                "200": _json(_ref("Comment"), "The edited comment."),
                "400": _error("Bad body."),
                "401": _error("No edit token."),
                "403": _error("Wrong token or edit window closed."),
                "404": _error("No such comment."),
                "413": _error("Body too long."),
                "415": _error("Not application/json."),
                **_RATE,
            },
        },
        "delete": {
            "operationId": "delete_comment",
            "summary": "Delete a comment with its edit token; with replies it stays as '[deleted]'.",
            "parameters": [_ID_PARAM, _EDIT_TOKEN],
            "responses": {
                "204": {"description": "Deleted."},
                "401": _error("No edit token."),
                "403": _error("Wrong token or edit window closed."),
                "404": _error("No such comment."),
                **_RATE,
            },
        },
    },
    "/api/form-token": {
        "get": {
            "operationId": "form_token",
            "summary": "A fresh form token for a thread: it records when the form loaded (MIN_SUBMIT_SECONDS).",
            "description": "Fetch it when the form is shown and send it back as form_token with the new comment. "
                           "Never cached (Cache-Control: no-store).",
            "parameters": [_THREAD_PARAM],
            "responses": {
                "200": _json(_ref("FormToken"), "The token."),
                "400": _error("Missing or malformed thread."),
                "404": _error("No such thread in the manifest."),
                **_RATE,
            },
        },
    },
    "/api/counts": {
        "get": {
            "operationId": "counts",
            "summary": "Published comment counts for several threads.",
            "description": "Cacheable: send If-None-Match (or If-Modified-Since) to get 304 while nothing changed.",
            "parameters": [{**_THREAD_PARAM, "description": "Repeat for each thread.", "style": "form",
                            "explode": True, "schema": {"type": "array", "items": THREAD, "minItems": 1}}],
            "responses": {
                **_cached(_ref("Counts"), "Counts by thread."),
                "400": _error("No thread, too many, or a malformed one."),
                **_RATE,
            },
        },
    },
    "/api/preview": {
        "post": {
            "operationId": "preview",
            "summary": "Render a draft comment body as it would be stored (live preview); nothing is stored.",
            "requestBody": {"required": True, "content": {"application/json": {"schema": _ref("Preview")}}},
            "responses": {
                "200": _json(_ref("PreviewResult"), "The rendered body."),
                "400": _error("No body, or not a string."),
                "413": _error("Body too long."),
                "415": _error("Not application/json."),
                **_RATE,
            },
        },
    },
    "/api/unanswered": {
        "get": {
            "operationId": "unanswered",
            "summary": "Reader comments waiting for an author's answer, grouped by post, oldest first.",
            "description": "Needs a dashboard login (session cookie) or `Authorization: Bearer <author token>`. "
                           "A comment is unanswered while it is published, not marked \"no reply needed\", "
                           "and no author has replied anywhere beneath it.",
            "parameters": [{"name": "sort", "in": "query", "required": False,
                            "schema": {"type": "string", "enum": ["oldest", "questions"]},
                            "description": "`questions`: questions first within each post."}],
            "security": [{"authorToken": []}, {"dashboardSession": []}],
            "responses": {
                "200": _json(_ref("Unanswered"), "The queue."),
                "400": _error("An unknown sort."),
                "401": _error("Not logged in, or a wrong author token."),
            },
        },
    },
    "/api/threads/reload": {
        "post": {
            "operationId": "reload_threads",
            "summary": "Read the thread manifest (THREADS_MANIFEST) again now, instead of when its TTL runs out.",
            "description": "Called by `blogengine deploy` when `[deploy] reload_comments` is on, so new posts take "
                           "comments at once. Needs `Authorization: Bearer <author token>`; no body.",
            "security": [{"authorToken": []}],
            "responses": {
                "200": _json(_ref("ThreadsReloaded"), "The manifest was reloaded."),
                "401": _error("No author token, or a wrong one."),
                "502": _error("The manifest could not be read or is broken; the previous one stays."),
            },
        },
    },
    "/api/openapi.json": {
        "get": {
            "operationId": "openapi",
            "summary": "This document.",
            "responses": {"200": _json({"type": "object"}, "OpenAPI 3.1 document.")},
        },
    },
}


SECURITY_SCHEMES = {
    "authorToken": {"type": "http", "scheme": "bearer",
                    "description": "An author's API token (`blogengine comments add-token`) or an AUTHOR_TOKENS entry."},
    "dashboardSession": {"type": "apiKey", "in": "cookie", "name": "blogengine_dashboard",
                         "description": "The dashboard's session cookie, after logging in at /dashboard/login."},
}

# Parts of the request patterns (see models.py for BLANK, CONTROL and the field patterns).
NO_CONTROL = f"^[^{CONTROL}]*$"
# Controls except tab, line feed and carriage return, which a body may hold.
BODY_CHARACTERS = r"^[^\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]*$"
# A character that shows: not a space, a control or an invisible one (zero-width space, BOM).
NOT_BLANK = VISIBLE_CHAR


def _string(description: str, *, max_length: int | None, patterns: tuple[str, ...] = (),
            nullable: bool = False) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": ["string", "null"] if nullable else "string", "description": description}
    if max_length is not None:
        schema["maxLength"] = max_length
    if len(patterns) == 1:
        schema["pattern"] = patterns[0]
    elif patterns:
        schema["allOf"] = [{"pattern": p} for p in patterns]
    return schema


def _optional(pattern: str) -> str:
    """Blank, or `pattern`, with blanks around it (the server strips them)."""
    return f"^[{BLANK}]*(?:{pattern})?[{BLANK}]*$"


def _body(limits: Limits) -> dict[str, Any]:
    """Markdown: the length as sent, the shortest length once surrounding spaces are stripped."""
    patterns = [BODY_CHARACTERS]
    shortest = limits.min_body_length or 0
    if shortest == 1:
        patterns.append(NOT_BLANK)
    elif shortest > 1:
        patterns.append(f"{NOT_BLANK}[\\s\\S]{{{shortest - 2},}}{NOT_BLANK}")
    return _string(f"Markdown: at most {limits.max_body_length or 'any number of'} characters (413 beyond), and "
                   f"at least {shortest} once surrounding spaces are stripped.",
                   max_length=limits.max_body_length, patterns=tuple(patterns))


def request_schemas(limits: Limits, policy: Policy) -> dict[str, Any]:
    """NewComment, EditComment and Preview with this server's limits and honeypot field."""
    properties: dict[str, Any] = {
        "thread": {**THREAD, "description": "The post's path; no spaces, controls, ? # or \\; not //."},
        "parent_id": {"type": ["integer", "null"], "minimum": 1, "maximum": MAX_ID},
        "author_name": _string("Plain text, not blank.", max_length=limits.max_name_length,
                               patterns=(NO_CONTROL, NOT_BLANK)),
        "author_email": _string("Never shown; for reply notifications. Blank means none.",
                                max_length=limits.max_email_length, patterns=(_optional(EMAIL_PATTERN),),
                                nullable=True),
        "author_url": _string("An absolute http(s) URL, without user info; blank means none.",
                              max_length=limits.max_url_length, patterns=(_optional(URL_PATTERN),), nullable=True),
        "body": _body(limits),
        "notify_replies": {"type": ["boolean", "null"], "description": "Needs author_email."},
        "form_token": {**NULLABLE_STRING, "description": "From GET /api/form-token; required while "
                       "MIN_SUBMIT_SECONDS is on" + (" (it is)." if policy.min_submit_seconds is not None else
                                                      " (it is off).")},
    }
    preview_most = preview_cap(limits, policy)
    if policy.honeypot_field:
        properties[policy.honeypot_field] = {**NULLABLE_STRING, "description": "A honeypot: leave it empty."}
    new_comment = {
        "type": "object",
        "required": ["thread", "author_name", "body"],
        "properties": properties,
        # Being notified needs an address.
        "if": {"required": ["notify_replies"], "properties": {"notify_replies": {"const": True}}},
        "then": {"required": ["author_email"], "properties": {"author_email": {"type": "string", "pattern": NOT_BLANK}}},
    }
    return {
        "NewComment": new_comment,
        "EditComment": {"type": "object", "required": ["body"], "properties": {"body": _body(limits)}},
        "Preview": {"type": "object", "required": ["body"], "properties": {"body": _string(
            f"Markdown, at most {preview_most or 'any number of'} characters (413 beyond).",
            max_length=preview_most)}},
    }


def openapi_document(limits: Limits | None = None, policy: Policy | None = None) -> dict[str, Any]:
    """A fresh copy of the whole document for a server with these limits and policy (default: the
    default settings); every operation also lists a `default` error."""
    limits = limits or Limits()
    policy = policy or Policy()
    paths = copy.deepcopy(PATHS)
    for operations in paths.values():
        for operation in operations.values():
            operation["responses"]["default"] = _error("Any other error (405, 403 cross-origin, 413, 429).")
    counts = paths["/api/counts"]["get"]["parameters"][0]["schema"]
    if policy.counts_max_threads is not None:
        counts["maxItems"] = policy.counts_max_threads
    return copy.deepcopy({
        "openapi": "3.1.0",
        "info": {
            "title": "blogengine comment server",
            "version": VERSION,
            "description": "Every error answers {\"error\": {\"code\", \"message\", \"field\"}} with a 4xx status.",
        },
        "paths": paths,
        "components": {"schemas": {**SCHEMAS, **request_schemas(limits, policy)},
                       "securitySchemes": SECURITY_SCHEMES},
    })

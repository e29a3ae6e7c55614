"""The OpenAPI 3.1 document of the /api blueprint; tests validate real responses against it."""

from __future__ import annotations

import copy
from typing import Any

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
    "replies": {"type": "array", "items": _ref("Comment")},
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
            "author_reply_median_seconds": {
                "type": ["integer", "null"], "minimum": 0,
                "description": "How soon the post's author usually answers: the median seconds to the first "
                               "author reply over the last 90 days on their posts; null with fewer than 3 "
                               "answers. Optional: older servers leave it out.",
            },
        },
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
                     "waiting_seconds", "is_question", "parent", "reply_url"],
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
    "NewComment": {
        "type": "object",
        "required": ["thread", "author_name", "body"],
        "properties": {
            "thread": {"type": "string", "maxLength": 512, "pattern": "^/"},
            "parent_id": {"type": ["integer", "null"], "minimum": 1},
            "author_name": {"type": "string", "description": "Plain text, MAX_NAME_LENGTH."},
            "author_email": {**NULLABLE_STRING, "description": "Never shown; for reply notifications."},
            "author_url": {**NULLABLE_STRING, "description": "http(s) only."},
            "body": {"type": "string", "description": "Markdown, MIN_BODY_LENGTH to MAX_BODY_LENGTH."},
            "notify_replies": {"type": ["boolean", "null"], "description": "Needs author_email."},
            "form_token": {**NULLABLE_STRING, "description": "From GET /api/form-token (MIN_SUBMIT_SECONDS)."},
            "website": {**NULLABLE_STRING, "description": "Honeypot (HONEYPOT_FIELD): leave empty."},
        },
    },
    "EditComment": {
        "type": "object",
        "required": ["body"],
        "properties": {"body": {"type": "string"}},
    },
    "Preview": {
        "type": "object",
        "required": ["body"],
        "properties": {"body": {"type": "string", "description": "Markdown, at most MAX_BODY_LENGTH."}},
    },
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

_THREAD_PARAM = {"name": "thread", "in": "query", "required": True, "schema": {"type": "string"},
                 "description": "A post's path, e.g. /2024/05/a-post/."}
_ID_PARAM = {"name": "comment_id", "in": "path", "required": True, "schema": {"type": "integer"}}
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
            "description": "An `Authorization: Bearer <author token>` header posts as the site's author.",
            "requestBody": {"required": True, "content": {"application/json": {"schema": _ref("NewComment")}}},
            "responses": {
                "201": _json(_ref("CommentCreated"), "Published."),
                "202": _json(_ref("Pending"), "Held for moderation."),
                "400": _error("A field is missing, of the wrong type, malformed or over a limit."),
                "401": _error("A wrong author token."),
                "403": _error("Comments are closed, or a foreign origin."),
                "404": _error("Unknown thread or parent."),
                "413": _error("Body (or the whole request) too long."),
                "415": _error("Not application/json."),
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
            "parameters": [{**_THREAD_PARAM, "description": "Repeat for each thread."}],
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
            "responses": {
                "200": _json(_ref("Unanswered"), "The queue."),
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


def openapi_document() -> dict[str, Any]:
    """A fresh copy of the whole document; every operation also lists a `default` error."""
    paths = copy.deepcopy(PATHS)
    for operations in paths.values():
        for operation in operations.values():
            operation["responses"]["default"] = _error("Any other error (405, 403 cross-origin, 413, 429).")
    return copy.deepcopy({
        "openapi": "3.1.0",
        "info": {
            "title": "blogengine comment server",
            "version": VERSION,
            "description": "Every error answers {\"error\": {\"code\", \"message\", \"field\"}} with a 4xx status.",
        },
        "paths": paths,
        "components": {"schemas": SCHEMAS},
    })

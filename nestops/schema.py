"""Additions to the OpenAPI schema: the error answers every endpoint may give, in the one
error shape (``{"code", "message", "details"}``)."""

from __future__ import annotations

from typing import Any

ERROR = {
    "type": "object",
    "required": ["code", "message", "details"],
    "properties": {
        "code": {"type": "string", "description": "A stable code, e.g. invalid, not_found."},
        "message": {"type": "string", "description": "A sentence for people, translated."},
        "details": {"type": "object", "description": "Per field messages, or more facts."},
    },
}
ALWAYS = {
    "400": "The request is not valid (a field, a query parameter or the body).",
    "401": "No valid credentials.",
    "403": "Your role in this team does not allow this.",
    "429": "Too many requests; see the Retry-After header.",
}
WITH_ID = {"404": "Not found, or not yours."}
WRITES = {
    "409": "Refused in the instance's present state (a conflict, a busy host).",
    "422": "The Idempotency-Key was used for another request.",
    "502": "The cloud refused the request.",
    "503": "The cloud could not be reached or a price is unknown; try again.",
}


def add_error_responses(result: dict[str, Any], generator: Any, **kwargs: Any) -> dict[str, Any]:
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR
    reference = {"$ref": "#/components/schemas/Error"}
    for path, operations in result.get("paths", {}).items():
        for method, operation in operations.items():
            answers = dict(ALWAYS)
            if "{" in path:
                answers.update(WITH_ID)
            if method in ("post", "put", "patch", "delete"):
                answers.update(WRITES)
            responses = operation.setdefault("responses", {})
            for code, description in answers.items():
                responses.setdefault(
                    code,
                    {
                        "description": description,
                        "content": {"application/json": {"schema": reference}},
                    },
                )
    return result

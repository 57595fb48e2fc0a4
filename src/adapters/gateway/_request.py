"""Requests to the gateway: chat-request validation (models are routed by ``_routes.py``).

Pure functions and values; the ASGI plumbing is in ``_app.py``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass

from ._openai import echoed, invalid
from ._routes import ModelCatalog, ModelRoute, ProviderInfo

__all__ = ["ChatRequest", "ModelCatalog", "ModelRoute", "ProviderInfo", "parse_chat_request"]

# Roles the OpenAI protocol knows and this gateway can forward; "developer" is the newer name
# for "system" in OpenAI's API.
_ROLE_MAP = {"system": "system", "developer": "system", "user": "user", "assistant": "assistant"}
# Content-part types that carry plain text ("refusal" parts appear in echoed assistant turns).
_TEXT_PART_KEYS = {"text": "text", "input_text": "text", "refusal": "refusal"}


@dataclass(frozen=True, slots=True, kw_only=True)
class ChatRequest:
    """A validated ``POST /v1/chat/completions`` request.

    Attributes:
        route: where the model resolved to.
        messages: ``{"role", "content"}`` dicts with roles ``system``, ``user``, ``assistant``.
        stream: whether the client asked for server-sent events.
    """

    route: ModelRoute
    messages: tuple[Mapping[str, str], ...]
    stream: bool


def parse_chat_request(body: bytes, catalog: ModelCatalog) -> ChatRequest:
    """Validate a chat-completions request body; raise ``GatewayError`` (400/404) when bad.

    Parameters the gateway cannot honour exactly (``temperature``, ``max_tokens``, ...) are
    ignored; ``n`` other than 1 and tool calling are refused.
    """
    try:
        payload = json.loads(body)
    except (ValueError, RecursionError):
        # ValueError covers bad UTF-8 and bad JSON; RecursionError a hostile nesting depth.
        raise invalid("The request body is not valid JSON.", code="invalid_json") from None
    if not isinstance(payload, dict):
        raise invalid("The request body must be a JSON object.", code="invalid_json")
    model = payload.get("model")
    if model is None:
        raise invalid("You must provide a model parameter.", "model", "missing_required_parameter")
    if not isinstance(model, str) or not model:
        raise invalid("'model' must be a non-empty string.", "model", "invalid_type")
    stream = payload.get("stream")
    if stream is None:
        stream = False
    elif not isinstance(stream, bool):
        raise invalid("'stream' must be a boolean.", "stream", "invalid_type")
    n = payload.get("n")
    if n is not None and (isinstance(n, bool) or n != 1):
        raise invalid("Only n=1 is supported.", "n", "unsupported_value")
    for name in ("tools", "functions"):
        if payload.get(name):
            raise invalid(
                f"'{name}' is not supported by this gateway.", name, "unsupported_parameter"
            )
    messages = _parse_messages(payload.get("messages"))
    return ChatRequest(route=catalog.resolve(model), messages=messages, stream=stream)


def _parse_messages(raw: object) -> tuple[Mapping[str, str], ...]:
    if raw is None:
        raise invalid(
            "You must provide a messages parameter.", "messages", "missing_required_parameter"
        )
    if not isinstance(raw, list):
        raise invalid("'messages' must be an array.", "messages", "invalid_type")
    if not raw:
        raise invalid("'messages' must contain at least one message.", "messages", "empty_array")
    messages = tuple(_parse_message(item, f"messages[{i}]") for i, item in enumerate(raw))
    if messages[-1]["role"] == "assistant":
        raise invalid(
            "The last message must come from the user (or system), not the assistant.",
            f"messages[{len(messages) - 1}].role",
            "invalid_value",
        )
    return messages


def _parse_message(item: object, where: str) -> Mapping[str, str]:
    if not isinstance(item, dict):
        raise invalid(f"'{where}' must be an object.", where, "invalid_type")
    role = item.get("role")
    if not isinstance(role, str):
        raise invalid(f"'{where}.role' must be a string.", f"{where}.role", "invalid_type")
    if role not in _ROLE_MAP:
        raise invalid(
            f"Role {echoed(role)} is not supported; use system, developer, user or assistant.",
            f"{where}.role",
            "invalid_value",
        )
    content = item.get("content")
    if content is None and role == "assistant":
        content = ""
    return {"role": _ROLE_MAP[role], "content": _parse_content(content, f"{where}.content")}


def _parse_content(content: object, where: str) -> str:
    if isinstance(content, str):
        return content
    if not isinstance(content, list):
        raise invalid(
            f"'{where}' must be a string or an array of text parts.", where, "invalid_type"
        )
    texts: list[str] = []
    for j, part in enumerate(content):
        here = f"{where}[{j}]"
        if not isinstance(part, dict):
            raise invalid(f"'{here}' must be an object.", here, "invalid_type")
        kind = part.get("type")
        key = _TEXT_PART_KEYS.get(kind) if isinstance(kind, str) else None
        if key is None:
            raise invalid(
                f"Content part type {_shown(kind)} is not supported; only text parts are.",
                f"{here}.type",
                "unsupported_content",
            )
        text = part.get(key)
        if not isinstance(text, str):
            raise invalid(f"'{here}.{key}' must be a string.", f"{here}.{key}", "invalid_type")
        texts.append(text)
    return "\n".join(texts)


def _shown(value: object) -> str:
    """A JSON value of the request, as an error message quotes it (a string cut and
    escaped by :func:`echoed`; any other value by its JSON type)."""
    return echoed(value) if isinstance(value, str) else f"of JSON type {_json_type(value)}"


def _json_type(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    return "array" if isinstance(value, list) else "object"

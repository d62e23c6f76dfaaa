"""Query parameters shared by the search, span search and stats endpoints (documented in
OpenAPI through FastAPI's dependency injection), turned into one ``Filters`` value."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Annotated, Any, Literal

from fastapi import Query

from tracepond.model.filters import Filters
from tracepond.query.filters import (
    parse_attr_filter,
    parse_duration,
    parse_query,
    parse_time,
)
from tracepond.query.suggest import did_you_mean, nearest, one_of

_MAX_INT = 2**63 - 1
_MAX_INT32 = 2**31 - 1
# The choices of a Literal parameter, as pydantic lists them: "'error' or 'ok'".
_CHOICE = re.compile(r"'((?:[^'\\]|\\.)*)'")
_TIME = "unix nanoseconds, ISO-8601 with timezone, or a duration ago (1h, 30m)"


def search_filters(
    since: Annotated[
        str | None, Query(description=f"start at or after: {_TIME}", examples=["1h"])
    ] = None,
    until: Annotated[str | None, Query(description=f"start at or before: {_TIME}")] = None,
    service: Annotated[
        str | None, Query(description="service name (the root's, for traces)")
    ] = None,
    status: Annotated[
        Literal["error", "ok"] | None,
        Query(description="error: has an error span (for spans: is one)"),
    ] = None,
    name: Annotated[
        str | None, Query(description="root span name (traces) / span name (spans)")
    ] = None,
    category: Annotated[
        str | None,
        Query(
            description="has a span of this category (llm, retriever, tool, ...)",
            examples=["retriever"],
        ),
    ] = None,
    model: Annotated[
        str | None,
        Query(description="model used (traces: by a leaf LLM call)", examples=["gpt-4o"]),
    ] = None,
    min_duration: Annotated[
        str | None, Query(description="nanoseconds or 500ms, 2s, 1m", examples=["5s"])
    ] = None,
    max_duration: Annotated[str | None, Query(description="nanoseconds or 500ms, 2s, 1m")] = None,
    min_tokens: Annotated[int | None, Query(ge=0, le=_MAX_INT)] = None,
    max_tokens: Annotated[int | None, Query(ge=0, le=_MAX_INT)] = None,
    min_cost: Annotated[float | None, Query(ge=0, le=1e300, allow_inf_nan=False)] = None,
    max_cost: Annotated[float | None, Query(ge=0, le=1e300, allow_inf_nan=False)] = None,
    min_documents: Annotated[
        int | None, Query(ge=0, le=_MAX_INT32, description="retrieved documents")
    ] = None,
    max_documents: Annotated[
        int | None, Query(ge=0, le=_MAX_INT32, description="retrieved documents", examples=[1])
    ] = None,
    session_id: Annotated[str | None, Query()] = None,
    user_id: Annotated[str | None, Query()] = None,
    tag: Annotated[
        str | None, Query(description="a tag (tracepond.tags, tag.tags, langfuse/langsmith tags)")
    ] = None,
    attr: Annotated[
        list[str] | None,
        Query(
            description="raw span attribute filter, repeatable: key=value, key!=value,"
            " key>3 key>=3 key<3 key<=3 (numeric), key~part (contains), key (exists)",
            examples=[["gen_ai.request.model=gpt-4o"]],
        ),
    ] = None,
    text: Annotated[
        str | None,
        Query(
            description="full text over span names, inputs and outputs (case-insensitive)",
            examples=["capital of France"],
        ),
    ] = None,
    q: Annotated[
        str | None,
        Query(
            description="query language (docs/query.md), e.g."
            ' { category = "retriever" && documents.count = 0 } && { category = "llm" }',
            examples=['{ model = "gpt-4o" && duration > 5s }'],
        ),
    ] = None,
) -> Filters:
    return Filters(
        since_ns=parse_time(since, "since"),
        until_ns=parse_time(until, "until"),
        service=service,
        status=status,
        name=name,
        category=category,
        model=model,
        min_duration_ns=parse_duration(min_duration, "min_duration"),
        max_duration_ns=parse_duration(max_duration, "max_duration"),
        min_tokens=min_tokens,
        max_tokens=max_tokens,
        min_cost=min_cost,
        max_cost=max_cost,
        min_documents=min_documents,
        max_documents=max_documents,
        session_id=session_id,
        user_id=user_id,
        tag=tag,
        attributes=tuple(parse_attr_filter(a) for a in attr or ()),
        text=text or None,
        query=parse_query(q),
    )


def describe_validation_errors(errors: Iterable[Mapping[str, Any]]) -> str:
    """FastAPI's validation errors in words, a mistyped choice with the nearest valid one:
    ``status: `eror` is not one of `error` or `ok`. Did you mean `error`?``."""
    return "; ".join(_describe(error) for error in errors)


def _describe(error: Mapping[str, Any]) -> str:
    location = error.get("loc", ())
    name = str(location[-1]) if location else "request"
    given = error.get("input")
    expected = str((error.get("ctx") or {}).get("expected", ""))
    choices = _CHOICE.findall(expected)
    if error.get("type") == "literal_error" and isinstance(given, str) and choices:
        meant = did_you_mean(nearest(given, choices))
        return f"{name}: `{given[:40]}` is not one of {one_of(choices)}.{meant}"
    return f"{'.'.join(str(p) for p in location)}: {error.get('msg', '')}"

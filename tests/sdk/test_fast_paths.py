"""The shortcuts on `@trace`'s hot path give exactly what the general paths give."""

from __future__ import annotations

import inspect
import json
import math
from typing import Any

import pytest

import tracepond
from tracepond.sdk._decorator import _plain_signature, _signature
from tracepond.sdk._kinds import SpanKind
from tracepond.sdk._run import Spec, bind_arguments
from tracepond.sdk._serialize import (
    arguments_jsonable,
    flat_arguments_json,
    flat_json,
    to_json,
    to_jsonable,
)

from .spans import Spans, attr, json_attr

# JSON scalars as the walk leaves them.
SCALARS = [
    0,
    -5,
    2**70,
    "",
    'héllo "quoted" \\ \n \u2028 ✓ \U0001f600',
    True,
    False,
    None,
    1.5,
    -0.0,
    1e300,
]
FLAT = [
    *SCALARS,
    {},
    {"a": 1, "b": "x", "c": None, "d": 2.5, "e": True, "ü": "ß"},
]


@pytest.mark.parametrize("value", FLAT)
def test_flat_json_is_json_dumps(value: Any) -> None:
    assert flat_json(value, 8192) == json.dumps(value, ensure_ascii=False)
    assert flat_json(value, 8192) == json.dumps(to_jsonable(value), ensure_ascii=False)


@pytest.mark.parametrize(
    "value", [math.nan, math.inf, {"a": -math.inf}, [1], {"a": [1]}, {1: "x"}, b"x", (1,)]
)
def test_not_flat_takes_the_general_path(value: Any) -> None:
    assert flat_json(value, 8192) is None
    to_json(value)  # and that path copes


def test_cut_like_to_json() -> None:
    text = "x" * 100
    assert flat_json(text, 10) == to_json(text, max_chars=10)
    assert flat_json({"k": text}, 10) == to_json({"k": text}, max_chars=10)


@pytest.mark.parametrize(
    "arguments",
    [{"x": 1, "y": "two", "z": None, "w": 0.5}, {}, {"s": "ü" * 10}],
)
def test_flat_arguments_json_is_the_walk(arguments: dict[str, Any]) -> None:
    walked = to_json(arguments_jsonable(arguments, max_chars=50), max_chars=50)
    assert flat_arguments_json(arguments, 50) == walked


@pytest.mark.parametrize(
    "arguments", [{"long": "x" * 51}, {"nan": math.nan}, {"list": [1]}, {"obj": object()}]
)
def test_arguments_the_walk_would_change_are_not_flat(arguments: dict[str, Any]) -> None:
    assert flat_arguments_json(arguments, 50) is None


def _spec(func: Any, skip_first: bool = False, kind: SpanKind = SpanKind.UNKNOWN) -> Spec:
    return Spec(
        name="f",
        kind=kind,
        attributes={},
        capture_input=True,
        capture_output=True,
        redact=frozenset(),
        signature=_signature(func),
        skip_first=skip_first,
        **_plain_signature(func),
    )


def four(a: int, b: int, c: int = 3, d: int = 4) -> None:
    pass


@pytest.mark.parametrize(
    ("args", "kwargs"),
    [((1, 2), {}), ((1, 2, 5), {}), ((1, 2, 5, 6), {}), ((1,), {"b": 9}), ((1, 2), {"d": 0})],
)
def test_binding_shortcut_matches_inspect(args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    bound = inspect.signature(four).bind(*args, **kwargs)
    bound.apply_defaults()
    assert bind_arguments(_spec(four), args, kwargs) == dict(bound.arguments)
    assert list(bind_arguments(_spec(four), args, kwargs)) == ["a", "b", "c", "d"]


def test_binding_a_wrong_call_records_what_was_passed() -> None:
    assert bind_arguments(_spec(four), (1,), {}) == {"args": [1], "kwargs": {}}


def test_flat_input_recorded_at_creation_and_others_after(spans: Spans) -> None:
    @tracepond.trace
    def flat(x: int, y: str = "why") -> int:
        return x

    @tracepond.trace(redact=["secret"])
    def redacted(x: int, secret: str = "hunter2") -> int:
        return x

    @tracepond.trace(kind="tool")
    def tool(query: str) -> str:
        return query

    @tracepond.trace(kind="retriever")
    def retrieve(query: str, k: int = 2) -> list[str]:
        return [query] * k

    flat(1)
    redacted(2)
    tool("q")
    retrieve("where")

    def span(name: str) -> Any:
        return spans.named(
            f"{test_flat_input_recorded_at_creation_and_others_after.__name__}.<locals>.{name}"
        )

    assert json_attr(span("flat"), "tracepond.input") == {"x": 1, "y": "why"}
    assert json_attr(span("redacted"), "tracepond.input") == {"x": 2, "secret": "[REDACTED]"}
    assert attr(span("tool"), "gen_ai.tool.call.arguments") == '{"query": "q"}'
    assert attr(span("retrieve"), "gen_ai.retrieval.query.text") == "where"


# --- the input written straight from positional arguments --------------------------------


def _general_input(spec: Spec, args: tuple[Any, ...], max_chars: int) -> str:
    """What the general path records: bind, walk, encode."""
    bound = bind_arguments(spec, args, {})
    return to_json(arguments_jsonable(bound, max_chars=max_chars), max_chars=max_chars)


def no_params() -> None:
    pass


def scalars(a: Any, b: Any = "dflt", c: Any = None, d: Any = 2.5, e: Any = True) -> None:
    pass


def list_default(a: Any, b: Any = [1], c: Any = 3) -> None:  # noqa: B006
    pass


def nan_default(a: Any, b: float = math.nan) -> None:
    pass


class Receiver:
    def method(self, q: Any, k: int = 3) -> None:
        pass

    def bare(self) -> None:
        pass


def receiver_with_default(self: Any = None, x: int = 1) -> None:
    pass


def unicode_names(ключ: Any, ü: Any = "ß") -> None:
    pass


VALUES = [
    *SCALARS,
    "short",
    "x" * 40,
    math.nan,
    -math.inf,
    [1, 2],
    {"k": "v"},
    (1,),
    object(),
    b"bytes",
]
SIGNATURES = [
    (no_params, False),
    (scalars, False),
    (list_default, False),
    (nan_default, False),
    (Receiver.method, True),
    (Receiver.bare, True),
    (receiver_with_default, True),
    (unicode_names, False),
    (four, False),
]


@pytest.mark.parametrize(("func", "skip_first"), SIGNATURES)
@pytest.mark.parametrize("max_chars", [8192, 30])
def test_positional_json_is_the_general_path(func: Any, skip_first: bool, max_chars: int) -> None:
    spec = _spec(func, skip_first=skip_first)
    writer = spec.positional_json
    assert writer is not None
    names = spec.positional or ()
    written = 0
    for given in range(len(names) + 2):
        for value in VALUES:
            args = (Receiver(),) * min(given, skip_first) + (value,) * max(0, given - skip_first)
            text = writer.text(args, max_chars)
            if text is None:  # left to the general path: only where it would change a value
                continue
            written += 1
            assert text == _general_input(spec, args, max_chars), (func.__name__, args)
            if len(text) <= max_chars:  # not cut: valid JSON
                json.loads(text)
    assert written > 0


@pytest.mark.parametrize(
    ("func", "args"),
    [
        (scalars, ("x" * 31,)),  # the walk would cut the string
        (scalars, (math.nan,)),
        (scalars, ([1],)),
        (list_default, (1,)),  # a default that is not a scalar
        (nan_default, (1,)),
        (scalars, ()),  # a required argument missing: the call itself fails
        (scalars, (1, 2, 3, 4, 5, 6)),  # too many
        (four, (1,)),
    ],
)
def test_positional_json_leaves_what_it_cannot_write(func: Any, args: tuple[Any, ...]) -> None:
    writer = _spec(func).positional_json
    assert writer is not None
    assert writer.text(args, 30) is None


def test_positional_json_skips_self_and_needs_it() -> None:
    writer = _spec(Receiver.method, skip_first=True).positional_json
    assert writer is not None
    assert writer.text((Receiver(), "q"), 100) == '{"q": "q", "k": 3}'
    assert writer.text((), 100) is None  # no receiver passed: the general path decides


def test_positional_json_only_for_kinds_whose_input_is_the_text() -> None:
    direct = {kind for kind in SpanKind if _spec(scalars, kind=kind).positional_json is not None}
    assert direct == set(SpanKind) - {SpanKind.CHAT, SpanKind.LLM, SpanKind.RETRIEVER}
    assert (
        Spec(
            name="f",
            kind=SpanKind.TOOL,
            attributes={},
            capture_input=True,
            capture_output=True,
            redact=frozenset(),
            signature=None,
            skip_first=False,
        ).positional_json
        is None
    )  # no plain signature known


def test_input_written_directly_reaches_the_span(spans: Spans) -> None:
    @tracepond.trace(kind="tool")
    def tool(query: str, limit: int = 5, exact: bool = False) -> str:
        return query

    class Agent:
        @tracepond.trace
        def act(self, goal: str, budget: float = 1.5) -> None:
            pass

    tool("find ✓")
    Agent().act("win")
    tool_span = spans.named(tool.__qualname__)
    expected = {"query": "find ✓", "limit": 5, "exact": False}
    assert json_attr(tool_span, "tracepond.input") == expected
    assert attr(tool_span, "gen_ai.tool.call.arguments") == attr(tool_span, "tracepond.input")
    assert json_attr(spans.named(Agent.act.__qualname__), "tracepond.input") == {
        "goal": "win",
        "budget": 1.5,
    }

"""normalize must never raise, whatever the attributes hold, and its shortcuts must not change
its result: property-based fuzzing.

Needs hypothesis (dev extra); test_fuzz.py is the seeded fallback that always runs.
"""

from __future__ import annotations

import dataclasses
import os
import tempfile
from typing import Any

import pytest

# hypothesis keeps a cache folder; keep it out of the work tree.
os.environ.setdefault(
    "HYPOTHESIS_STORAGE_DIRECTORY", os.path.join(tempfile.gettempdir(), "tracepond-hypothesis")
)
pytest.importorskip("hypothesis")

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tracepond.conventions import SpanInput, SpanView, _collect, _normalize, normalize_strict
from tracepond.conventions._tables import (
    FIELD_SOURCES,
    INDEXED_FAMILIES,
    METADATA_PREFIXES,
)

from .test_fast_paths import _general

# Real keys, so fuzzing exercises every parser rather than only the "unknown key" path.
KNOWN_KEYS = sorted({key for sources in FIELD_SOURCES.values() for key, _ in sources})
PREFIXES = sorted(INDEXED_FAMILIES) + list(METADATA_PREFIXES)

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=30),
    st.sampled_from(['"LLM"', "{'a': 1}", '{"input_tokens": "5"}', "[1,", "__REDACTED__", '"x"']),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
keys = st.one_of(
    st.sampled_from(KNOWN_KEYS),
    st.builds(
        lambda prefix, index, rest: f"{prefix}{index}.{rest}",
        st.sampled_from(PREFIXES),
        st.sampled_from(["0", "1", "12", "x", "-1", "٣"]),
        st.sampled_from(
            ["message.role", "message.content", "document.score", "role", "tool_calls.0.id"]
        ),
    ),
    st.text(max_size=20),
)
events = st.lists(
    st.fixed_dictionaries(
        {
            "name": st.sampled_from(
                ["exception", "gen_ai.user.message", "gen_ai.choice", "db.query.result", "x"]
            ),
            "time_unix_nano": st.integers(min_value=0),
            "attributes": st.dictionaries(keys, values, max_size=5),
        }
    ),
    max_size=3,
)


# database=None: no .hypothesis/ folder in the work tree
@settings(
    max_examples=400,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(
    attributes=st.dictionaries(keys, values, max_size=15),
    events=events,
    status=st.integers(min_value=-1, max_value=3),
    message=st.text(max_size=40),
    content=st.booleans(),
)
def test_normalize_never_raises(
    attributes: dict[str, Any],
    events: list[dict[str, Any]],
    status: int,
    message: str,
    content: bool,
) -> None:
    span = SpanInput(
        name="f", attributes=attributes, events=events, status_code=status, status_message=message
    )
    view = normalize_strict(span, content)
    assert view.to_dict() == _asdict(view)
    # columns-only mode fills the same columns (documents counted, not built)
    assert normalize_strict(span, not content).columns() == view.columns()
    # the plan's shortcuts (skipped steps, inert fast path, shared parses) change nothing
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(_normalize, "plan_for", lambda a: _general(_collect.plan_for(a)))
        assert repr(normalize_strict(span, content).to_dict()) == repr(view.to_dict())


def _asdict(view: SpanView) -> dict[str, Any]:
    out = dataclasses.asdict(view)
    if view.usage.is_empty():
        out["usage"] = None
    return out

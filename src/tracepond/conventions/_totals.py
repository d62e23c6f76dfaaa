"""Trace totals that count each LLM call once (pitfall 2).

A framework span (LangChain, an agent SDK) and the provider span below it both report the same
call's usage, and agent spans may carry aggregated usage. Tokens and cost are therefore summed
only over *leaf inference spans*: LLM/embedding spans with usage that have no LLM/embedding
descendant with usage. Agent/chain spans never contribute. The same leaf rule (no LLM/embedding
descendant at all) counts LLM steps and lists the models used.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from typing import TypeVar

from tracepond.conventions._coerce import finite_sum, saturating_add
from tracepond.conventions._model import EMBEDDING, LLM, RETRIEVER, TOOL, SpanView
from tracepond.model.summary import TraceTotals

_INFERENCE = (LLM, EMBEDDING)
# Span ids: hex strings in tests and fixtures, raw bytes in the store.
Key = TypeVar("Key", bound=Hashable)


def trace_totals(spans: Iterable[tuple[Key, Key | None, SpanView]]) -> TraceTotals:
    """Totals over one trace's ``(span_id, parent_span_id, view)`` tuples, in any order."""
    rows = list(spans)
    parent_of = {span_id: parent for span_id, parent, _ in rows}
    with_usage = _ancestors_of(parent_of, (s for s, _, v in rows if _has_usage(v)))
    with_llm = _ancestors_of(parent_of, (s for s, _, v in rows if v.category in _INFERENCE))
    totals = TraceTotals()
    models: dict[str, None] = {}
    for span_id, _parent, view in _roots_first(rows):
        _count_context(totals, view)
        if view.category == TOOL:
            totals.tool_steps += 1
        elif view.category == RETRIEVER:
            totals.retriever_steps += 1
        if view.category not in _INFERENCE:
            continue
        leaf = span_id not in with_llm
        if leaf and view.model is not None:
            models.setdefault(view.model)  # the wrapper's alias of the same model is skipped
        if leaf and view.category == LLM:
            totals.llm_steps += 1
        if _has_usage(view) and span_id not in with_usage:
            _add_usage(totals, view)
    totals.models = list(models)
    _saturate_steps(totals)
    return totals


# The step counts are stored as 32-bit integers.
_INT32_MAX = 2**31 - 1


def _saturate_steps(totals: TraceTotals) -> None:
    totals.llm_steps = min(totals.llm_steps, _INT32_MAX)
    totals.tool_steps = min(totals.tool_steps, _INT32_MAX)
    totals.retriever_steps = min(totals.retriever_steps, _INT32_MAX)


def _ancestors_of(parent_of: dict[Key, Key | None], spans: Iterable[Key]) -> set[Key]:
    """Every span that has one of ``spans`` strictly below it (cycle-safe)."""
    marked: set[Key] = set()
    for span_id in spans:
        parent = parent_of.get(span_id)
        seen = {span_id}
        while parent and parent not in seen:
            seen.add(parent)
            if parent in marked:
                break  # its ancestors are marked already
            marked.add(parent)
            parent = parent_of.get(parent)
    return marked


def _roots_first(
    rows: list[tuple[Key, Key | None, SpanView]],
) -> list[tuple[Key, Key | None, SpanView]]:
    # Root spans first, so trace-level session/user ids come from the root when it has them.
    return sorted(rows, key=lambda row: bool(row[1]))


def _has_usage(view: SpanView) -> bool:
    return view.category in _INFERENCE and not view.usage.is_empty()


def _add_usage(totals: TraceTotals, view: SpanView) -> None:
    # Saturating: a trace whose total would pass int64 (the stored type) keeps the maximum,
    # since a failed sum would fail every later commit of the trace's spans.
    usage = view.usage
    totals.input_tokens = saturating_add(totals.input_tokens, usage.input_tokens or 0)
    totals.output_tokens = saturating_add(totals.output_tokens, usage.output_tokens or 0)
    totals.total_tokens = saturating_add(totals.total_tokens, usage.total_tokens or 0)
    if view.cost is not None:
        totals.cost = finite_sum(totals.cost or 0.0, view.cost)


def _count_context(totals: TraceTotals, view: SpanView) -> None:
    if totals.session_id is None:
        totals.session_id = view.session_id
    if totals.user_id is None:
        totals.user_id = view.user_id

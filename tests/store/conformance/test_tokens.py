"""Page tokens are the store's: a token of one read continues that read only, and a forged or
garbled one is refused with ``InvalidRequest`` (HTTP 400), never an engine error."""

from __future__ import annotations

import base64

import pytest

from tracepond.errors import InvalidRequest
from tracepond.model.filters import Filters
from tracepond.model.records import PageToken, SearchRequest

from .seed import Seeded

GARBAGE = [
    "",
    "not base64 at all!",
    base64.urlsafe_b64encode(b"{}").decode(),
    base64.urlsafe_b64encode(b'{"w":"traces","s":"start_time","d":true,"v":1e300}').decode(),
    base64.urlsafe_b64encode(b"99999999999999999999999:x").decode(),
    base64.urlsafe_b64encode(b"\xff\xfe").decode(),
]


@pytest.mark.parametrize("text", GARBAGE)
def test_garbled_tokens_are_invalid_requests(seeded: Seeded, text: str) -> None:
    token = PageToken(text)
    store = seeded.store
    if text:  # "" is no token at all where a falsy value means the first page
        with pytest.raises(InvalidRequest):
            store.list_traces(3, token)
        with pytest.raises(InvalidRequest):
            store.sessions(3, token, None, None)
    with pytest.raises(InvalidRequest):
        store.search_traces(SearchRequest(Filters(), limit=2, after=token))
    with pytest.raises(InvalidRequest):
        store.search_spans(SearchRequest(Filters(), limit=2, after=token))


def test_a_token_continues_only_its_own_search(seeded: Seeded) -> None:
    store = seeded.store
    traces = store.search_traces(SearchRequest(Filters(), limit=2))
    spans = store.search_spans(SearchRequest(Filters(), limit=2))
    assert traces.next_after is not None and spans.next_after is not None
    with pytest.raises(InvalidRequest, match="does not belong"):
        store.search_spans(SearchRequest(Filters(), limit=2, after=traces.next_after))
    with pytest.raises(InvalidRequest, match="does not belong"):
        store.search_traces(SearchRequest(Filters(), limit=2, after=spans.next_after))
    for changed in (
        SearchRequest(Filters(), sort="duration", limit=2, after=traces.next_after),
        SearchRequest(Filters(), descending=False, limit=2, after=traces.next_after),
    ):
        with pytest.raises(InvalidRequest, match="does not belong"):
            store.search_traces(changed)
    # Unchanged, it continues: the next page starts after the first one's rows.
    second = store.search_traces(SearchRequest(Filters(), limit=2, after=traces.next_after))
    assert {t.trace_id for t in second.rows}.isdisjoint(t.trace_id for t in traces.rows)
    assert second.as_of == traces.as_of

"""A small BM25 retriever over the bundled corpus: relevant, scored, no model and no network.

Okapi BM25 (k1=1.5, b=0.75): a document scores for each query word it contains, more for
words that are rare in the corpus, less as the document grows. Words are lowercased, stripped
of a plural "s" and rid of a few English stop words, so "What is a span?" looks for "span".
"""

from __future__ import annotations

import math
import re
from collections import Counter
from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import PrivateAttr

# Words too common to tell documents apart.
_STOP_WORDS_TEXT = (
    "a an and are as at be by do does for from how in is it its of on or so such that the"
    " then this to what when where which who why with"
)
_STOP_WORDS = frozenset(_STOP_WORDS_TEXT.split())


def words(text: str) -> list[str]:
    """The terms of `text` as BM25 counts them."""
    out = []
    for word in re.findall(r"[a-z0-9]+", text.lower()):
        if word in _STOP_WORDS:
            continue
        out.append(_singular(word))
    return out


def _singular(word: str) -> str:
    """A crude stemmer, enough for "spans" to find "span" ("class", "Paris", "status" stay)."""
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "is", "us")):
        return word[:-1]
    return word


class BM25Retriever(BaseRetriever):
    """The `k` best documents for a query, each with its BM25 score in `metadata["score"]`
    (the key tracepond reads as a retrieved document's score); documents that share no word
    with the query are not returned."""

    documents: list[Document]
    k: int = 3
    k1: float = 1.5
    b: float = 0.75
    _terms: list[Counter[str]] = PrivateAttr(default_factory=list)
    _idf: dict[str, float] = PrivateAttr(default_factory=dict)
    _average_length: float = PrivateAttr(default=1.0)

    def model_post_init(self, context: Any) -> None:
        self._terms = [Counter(words(doc.page_content)) for doc in self.documents]
        count = len(self._terms)
        holding: Counter[str] = Counter(term for terms in self._terms for term in terms)
        # The "+1" form of IDF stays positive even for a word in most documents.
        self._idf = {
            term: math.log(1 + (count - n + 0.5) / (n + 0.5)) for term, n in holding.items()
        }
        lengths = [sum(terms.values()) for terms in self._terms]
        self._average_length = sum(lengths) / count if count else 1.0

    def scores(self, query: str) -> list[float]:
        """The BM25 score of every document, in corpus order."""
        query_terms = words(query)
        return [self._score(query_terms, terms) for terms in self._terms]

    def _score(self, query_terms: list[str], terms: Counter[str]) -> float:
        length_norm = 1 - self.b + self.b * sum(terms.values()) / self._average_length
        total = 0.0
        for term in query_terms:
            frequency = terms.get(term, 0)
            if frequency:
                weight = frequency * (self.k1 + 1) / (frequency + self.k1 * length_norm)
                total += self._idf[term] * weight
        return total

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun
    ) -> list[Document]:
        ranked = sorted(zip(self.scores(query), self.documents, strict=True), key=_by_score)
        return [
            Document(
                id=doc.id,
                page_content=doc.page_content,
                metadata={**doc.metadata, "score": round(score, 3)},
            )
            for score, doc in ranked[: self.k]
            if score > 0
        ]


def _by_score(pair: tuple[float, Document]) -> float:
    return -pair[0]

"""The demo's retrieval: the document that answers each question ranks first, with a score."""

from __future__ import annotations

import pytest

pytest.importorskip("langchain_core")

from tracepond.demo.agent import build_agent, build_retriever, format_docs
from tracepond.demo.corpus import DOCUMENTS, QUESTIONS, Question
from tracepond.demo.retriever import words


@pytest.mark.parametrize("question", QUESTIONS, ids=lambda q: q.text)
def test_the_answering_document_ranks_first_with_a_score(question: Question) -> None:
    docs = build_retriever().invoke(question.text)
    if question.answered_by is None:
        assert docs == [], "nothing in the corpus answers it: nothing should be retrieved"
        return
    assert docs[0].id == question.answered_by
    scores = [doc.metadata["score"] for doc in docs]
    assert all(isinstance(score, float) and score > 0 for score in scores)
    assert scores == sorted(scores, reverse=True)
    assert len(docs) <= 3


def test_every_answer_document_exists_and_questions_cover_the_story() -> None:
    ids = {article.id for article in DOCUMENTS}
    assert {q.answered_by for q in QUESTIONS if q.answered_by} <= ids
    assert any(q.answered_by is None for q in QUESTIONS), "one question nothing answers"
    assert len({q.user for q in QUESTIONS}) > 1, "more than one user"


def test_unrelated_words_retrieve_nothing() -> None:
    assert build_retriever().invoke("Who won the football world cup?") == []
    assert format_docs([]).startswith("(no document")


def test_query_terms_ignore_case_plurals_and_stop_words() -> None:
    assert words("What is a span?") == ["span"]
    assert words("Spans, TRACES and Paris") == ["span", "trace", "paris"]


def test_answers_use_the_best_document_or_say_nothing_answers() -> None:
    agent = build_agent()
    answers = {q.text: agent.invoke(q.text) for q in QUESTIONS}
    assert answers["What is a span?"].startswith("A span is one timed step of work")
    assert answers["What is a span?"].endswith("[otel-spans]")
    assert "[rag]" in answers["How does retrieval-augmented generation work?"]
    paris = answers["What is the weather in Paris?"]
    assert "14 °C, light rain" in paris and "[paris]" in paris
    atlantis = answers["What is the weather in Atlantis?"]
    assert "could not get the weather for Atlantis" in atlantis
    assert "knowledge base has nothing" in atlantis

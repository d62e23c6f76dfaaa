"""Concurrent calls never cross-talk: threads, asyncio tasks, concurrent.futures."""

from __future__ import annotations

import asyncio
import contextvars
import threading
from concurrent.futures import ThreadPoolExecutor

import tracepond
from tracepond import trace

from .spans import Spans, attr, json_attr


@trace(name="leaf")
def leaf(worker: int, step: int) -> int:
    return worker * 100 + step


@trace(name="worker")
def worker(worker_id: int, barrier: threading.Barrier) -> int:
    total = leaf(worker_id, 0)
    barrier.wait()  # all workers are inside their root span at the same time
    return total + leaf(worker_id, 1)


def _children_by_root(spans: Spans, root_name: str, child_name: str) -> dict[int, list[int]]:
    roots = {s.context.span_id: s for s in spans.all_named(root_name)}
    result: dict[int, list[int]] = {}
    for child in spans.all_named(child_name):
        assert child.parent is not None and child.parent.span_id in roots
        root = roots[child.parent.span_id]
        assert child.context.trace_id == root.context.trace_id
        result.setdefault(json_attr(root, "tracepond.input")["worker_id"], []).append(
            json_attr(child, "tracepond.input")["worker"]
        )
    return result


def test_threads_keep_their_own_trees(spans: Spans) -> None:
    barrier = threading.Barrier(8)
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda i: worker(i, barrier), range(8)))
    assert results == [i * 200 + 1 for i in range(8)]
    roots = spans.all_named("worker")
    assert len(roots) == 8 and all(r.parent is None for r in roots)
    assert len({r.context.trace_id for r in roots}) == 8
    assert _children_by_root(spans, "worker", "leaf") == {i: [i, i] for i in range(8)}


async def test_asyncio_tasks_keep_their_own_trees(spans: Spans) -> None:
    @trace(name="task_leaf")
    async def task_leaf(worker: int) -> int:
        await asyncio.sleep(0)
        return worker

    @trace(name="task_root")
    async def task_root(worker_id: int) -> int:
        first = await task_leaf(worker_id)
        await asyncio.sleep(0.001 * (10 - worker_id))  # interleave the tasks
        return first + await task_leaf(worker_id)

    assert await asyncio.gather(*(task_root(i) for i in range(10))) == [2 * i for i in range(10)]
    assert _children_by_root(spans, "task_root", "task_leaf") == {i: [i, i] for i in range(10)}


def test_futures_follow_otel_context_rules(spans: Spans) -> None:
    """A pool thread sees the submitter's span only if the context is copied (OTel rules)."""

    @trace(name="submitter")
    def submitter() -> None:
        with ThreadPoolExecutor(max_workers=1) as pool:
            ctx = contextvars.copy_context()
            pool.submit(ctx.run, leaf, 1, 1).result()
            pool.submit(leaf, 2, 2).result()

    submitter()
    root = spans.named("submitter")
    copied, plain = sorted(
        spans.all_named("leaf"), key=lambda s: json_attr(s, "tracepond.input")["worker"]
    )
    assert copied.parent is not None and copied.parent.span_id == root.context.span_id
    assert plain.parent is None


async def test_context_values_reach_spans_below_without_cross_talk(spans: Spans) -> None:
    @trace(name="step")
    async def step() -> None:
        await asyncio.sleep(0)

    async def conversation(session: str) -> None:
        with tracepond.context(session_id=session, user_id=f"user-{session}", tags=["t1"]):
            with tracepond.context(tags=["t2"], metadata={"env": "test", "n": 1}):
                await step()
            await step()

    await asyncio.gather(conversation("s1"), conversation("s2"))
    steps = spans.all_named("step")
    assert sorted(attr(s, "gen_ai.conversation.id") for s in steps) == ["s1", "s1", "s2", "s2"]
    for span in steps:
        session = attr(span, "session.id")
        assert attr(span, "gen_ai.conversation.id") == session
        assert attr(span, "user.id") == f"user-{session}"
    tagged = [s for s in steps if attr(s, "tracepond.tags") == ("t1", "t2")]
    assert len(tagged) == 2
    assert all(attr(s, "tracepond.metadata.env") == "test" for s in tagged)
    assert all(attr(s, "tracepond.metadata.n") == 1 for s in tagged)
    untagged = [s for s in steps if attr(s, "tracepond.tags") == ("t1",)]
    assert len(untagged) == 2
    assert all(attr(s, "tracepond.metadata.env") is None for s in untagged)


def test_context_reaches_threads_that_copy_context(spans: Spans) -> None:
    with tracepond.context(session_id="abc"), ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(contextvars.copy_context().run, leaf, 0, 0).result()
    assert attr(spans.named("leaf"), "session.id") == "abc"

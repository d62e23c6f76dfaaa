"""Computed costs: the bundled genai-prices table, price overrides, dates, and the cache.

Every computed cost is checked against ``genai_prices.calc_price`` itself (the reference this
module reimplements for speed), on the same usage and date, and every model lookup against
genai-prices' own. genai-prices is a dev dependency: tracepond reads its own compact copy of the
table (prices.json, scripts/generate_prices.py)."""

from __future__ import annotations

import importlib.util
import json
import os
import pickle
import subprocess
import sys
from datetime import UTC, date, datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pytest
from genai_prices import Usage as GenAIUsage
from genai_prices import calc_price
from genai_prices.data_snapshot import get_snapshot
from genai_prices.types import ConditionalPrice, StartDateConstraint, TimeOfDateConstraint

from tracepond.conventions import (
    PriceTable,
    SpanInput,
    SpanView,
    Usage,
    _prices,
    default_prices,
    normalize,
    price_view,
)
from tracepond.errors import InvalidPriceFile
from tracepond.price_file import parse_prices

NOW = datetime(2025, 6, 1, 12, tzinfo=UTC)


def ns(moment: datetime) -> int:
    return int(moment.timestamp()) * 10**9


def reference(usage: Usage, model: str, provider: str, moment: datetime = NOW) -> float:
    """genai-prices' own answer (input tokens include cache tokens, output reasoning)."""
    counts = {
        "input_tokens": usage.input_tokens,
        "output_tokens": usage.output_tokens,
        "cache_read_tokens": usage.cache_read_tokens,
        "cache_write_tokens": usage.cache_write_tokens,
        "output_reasoning_tokens": usage.reasoning_tokens,
    }
    result = calc_price(
        GenAIUsage(**{k: v for k, v in counts.items() if v}),
        model,
        provider_id=provider,
        genai_request_timestamp=moment,
    )
    return float(result.total_price)


def llm_span(model: str, provider: str | None, **usage: Any) -> SpanInput:
    attributes: dict[str, Any] = {"gen_ai.operation.name": "chat", "gen_ai.request.model": model}
    if provider is not None:
        attributes["gen_ai.provider.name"] = provider
    for key, value in usage.items():
        attributes[f"gen_ai.usage.{key}"] = value
    return SpanInput(name=f"chat {model}", attributes=attributes)


def priced(span: SpanInput, table: PriceTable | None = None, moment: datetime = NOW) -> SpanView:
    view = normalize(span)
    price_view(view, ns(moment), table or default_prices())
    return view


# (provider as spans name it, model, genai-prices provider id, usage with cache tokens)
KNOWN = [
    ("openai", "gpt-4o-mini", "openai", Usage(12_000, 800, None, 8_000, None, None)),
    ("anthropic", "claude-sonnet-4-5", "anthropic", Usage(20_000, 1_500, None, 12_000, 3_000)),
    ("gcp.gemini", "gemini-2.5-pro", "google", Usage(250_000, 4_000, None, 100_000, None, 900)),
    ("openai", "o3-mini", "openai", Usage(5_000, 9_000, None, 1_000, None, 7_000)),
]


@pytest.mark.parametrize(("provider", "model", "vendor", "usage"), KNOWN)
def test_known_models_cost_what_genai_prices_says(
    provider: str, model: str, vendor: str, usage: Usage
) -> None:
    found = PriceTable().price(provider, model, ns(NOW))
    assert found is not None
    rates, label = found
    assert label == f"genai-prices:{vendor}/{model}"
    assert rates.cost(usage) == pytest.approx(reference(usage, model, vendor), rel=1e-9)


def test_gpt_4o_mini_by_hand() -> None:
    # $0.15 / 1M input, $0.075 / 1M cached input, $0.60 / 1M output.
    span = llm_span(
        "gpt-4o-mini",
        "openai",
        input_tokens=12_000,
        output_tokens=800,
        **{"cache_read.input_tokens": 8_000},
    )
    view = priced(span)
    assert view.cost == pytest.approx((4_000 * 0.15 + 8_000 * 0.075 + 800 * 0.60) / 1e6)
    assert (view.cost_source, view.cost_price) == ("computed", "genai-prices:openai/gpt-4o-mini")


def test_anthropic_cache_tokens_reported_outside_the_input_are_still_charged() -> None:
    # Anthropic's own API reports input_tokens without the cache tokens (here 3,000 uncached,
    # 12,000 read, 5,000 written): the same call as 20,000 input tokens including them.
    outside = Usage(3_000, 1_000, None, 12_000, 5_000)
    inside = Usage(20_000, 1_000, None, 12_000, 5_000)
    rates, _ = PriceTable().price("anthropic", "claude-sonnet-4-5", ns(NOW)) or (None, "")
    assert rates is not None
    assert rates.cost(outside) == pytest.approx(rates.cost(inside))
    assert rates.cost(inside) == pytest.approx(reference(inside, "claude-sonnet-4-5", "anthropic"))


def test_every_bundled_model_agrees_with_calc_price() -> None:
    """Every model of every provider, at three dates, with cache and reasoning tokens."""
    table = PriceTable()
    usage = Usage(300_000, 20_000, None, 100_000, 50_000, 5_000)
    moments = [datetime(2023, 1, 1, 3, tzinfo=UTC), NOW, datetime(2026, 12, 1, 23, tzinfo=UTC)]
    checked = 0
    for provider in get_snapshot().providers:
        for model in provider.models:
            for moment in moments:
                try:
                    expected = reference(usage, model.id, provider.id, moment)
                except (LookupError, ValueError):
                    continue  # priced by units tracepond does not count (audio, pages...)
                found = table.price(provider.id, model.id, ns(moment))
                if found is None:  # priced by something other than tokens or requests
                    assert expected == 0 or _only_other_units(model, moment)
                    continue
                assert found[0].cost(usage) == pytest.approx(expected, rel=1e-9, abs=1e-12), (
                    provider.id,
                    model.id,
                    moment,
                )
                checked += 1
    assert checked > 3000


def _only_other_units(model: Any, moment: datetime) -> bool:
    prices = model.get_prices(moment).__dict__
    return not any(prices.get(key) for key in ("input_mtok", "output_mtok", "requests_kcount"))


def test_the_span_date_picks_the_price() -> None:
    model, provider, since = _a_model_whose_price_changed()
    table = PriceTable()
    usage = Usage(1_000_000, 1_000_000)
    before = datetime.combine(since, datetime.min.time(), UTC).replace(day=1, month=1)
    before = before.replace(year=since.year - 1)
    after = datetime.combine(since, datetime.min.time(), UTC)
    old = table.price(provider, model, ns(before))
    new = table.price(provider, model, ns(after))
    assert old is not None and new is not None
    assert old[0].cost(usage) != new[0].cost(usage)
    assert old[0].cost(usage) == pytest.approx(reference(usage, model, provider, before))
    assert new[0].cost(usage) == pytest.approx(reference(usage, model, provider, after))


def _a_model_whose_price_changed() -> tuple[str, str, date]:
    for provider in get_snapshot().providers:
        for model in provider.models:
            prices = model.prices
            if not isinstance(prices, list) or len(prices) < 2:
                continue
            last = prices[-1]
            assert isinstance(last, ConditionalPrice)
            changed = last.prices.__dict__.get("input_mtok") != prices[0].prices.input_mtok
            if isinstance(last.constraint, StartDateConstraint) and changed:
                return model.id, provider.id, last.constraint.start_date
    raise AssertionError("no model with a dated price change in the bundled table")


def test_a_sent_cost_wins() -> None:
    span = llm_span("gpt-4o-mini", "openai", input_tokens=1_000, output_tokens=10, cost=0.5)
    view = priced(span)
    assert (view.cost, view.cost_source, view.cost_price) == (0.5, "sent", None)


def test_what_is_not_priced() -> None:
    # A self-hosted server that speaks OpenAI's API names no vendor price: no cost, no guess.
    assert priced(llm_span("llama3.1:8b", "ollama", input_tokens=10)).cost is None
    assert priced(llm_span("gpt-4o", "vllm", input_tokens=10)).cost is None
    assert priced(llm_span("no-such-model", "openai", input_tokens=10)).cost is None
    # No token counts: nothing to price.
    assert priced(llm_span("gpt-4o", "openai")).cost is None
    # Not an LLM or embedding call.
    tool = SpanInput(
        name="tool",
        attributes={
            "gen_ai.operation.name": "execute_tool",
            "gen_ai.request.model": "gpt-4o",
            "gen_ai.usage.input_tokens": 10,
        },
    )
    assert priced(tool).cost is None


def test_the_response_model_is_priced_before_the_request_model() -> None:
    span = llm_span("gpt-4o", "openai", input_tokens=1_000_000)
    span.attributes["gen_ai.response.model"] = "gpt-4o-mini-2024-07-18"
    assert priced(span).cost_price == "genai-prices:openai/gpt-4o-mini"
    # A response model without a price falls back to the request model's.
    span.attributes["gen_ai.response.model"] = "gpt-4o-custom-deployment-xyz"
    assert priced(span).cost_price == "genai-prices:openai/gpt-4o"


def test_an_embedding_call_is_priced() -> None:
    span = SpanInput(
        name="embeddings",
        attributes={
            "gen_ai.operation.name": "embeddings",
            "gen_ai.provider.name": "openai",
            "gen_ai.request.model": "text-embedding-3-small",
            "gen_ai.usage.input_tokens": 1_000_000,
        },
    )
    view = priced(span)
    assert view.cost == pytest.approx(0.02)
    assert view.cost_price == "genai-prices:openai/text-embedding-3-small"


PRICES = """\
# USD per million tokens
- model: gpt-4o-mini
  provider: openai
  input: 1
  output: 2
  cache_read: 0.5
- model: "acme-*-chat"
  input: 3
  output: 4
  from: 2025-01-01
- model: "acme-*-chat"
  input: 30
  output: 40
- model: "llama*"
  provider: ollama
  input: 0
  output: 0
"""


def test_overrides_win_and_price_custom_models() -> None:
    table = PriceTable(parse_prices(PRICES, "prices.yaml"))
    mini = priced(
        llm_span(
            "gpt-4o-mini",
            "openai",
            input_tokens=2_000_000,
            output_tokens=1_000_000,
            **{"cache_read.input_tokens": 1_000_000},
        ),
        table,
    )
    assert mini.cost == pytest.approx(1 + 0.5 + 2)
    assert (mini.cost_source, mini.cost_price) == ("computed", "override:gpt-4o-mini")
    # A provider-bound entry does not apply elsewhere: the bundled price does.
    azure = priced(llm_span("gpt-4o-mini", "azure", input_tokens=1), table)
    assert azure.cost_price == "genai-prices:azure/gpt-4o-mini"
    # A custom model, with a price history: the span's date picks the entry.
    custom = llm_span("ACME-7B-chat", None, input_tokens=1_000_000, output_tokens=1_000_000)
    assert priced(custom, table).cost == pytest.approx(7)
    assert priced(custom, table, datetime(2024, 6, 1, tzinfo=UTC)).cost == pytest.approx(70)
    assert priced(custom, table).cost_price == "override:acme-*-chat"
    # A free self-hosted model costs 0, which is not "unknown".
    assert priced(llm_span("llama3.1:8b", "ollama", input_tokens=5), table).cost == 0


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("- model: x\n  inputt: 1\n", "entry 1 (line 1): unknown key(s) inputt"),
        ("- model: a\n  input: 1\n- input: 1\n", "entry 2 (line 3): `model` must be"),
        ("- model: x\n  input: -1\n", "entry 1 (line 1): `input` must be between 0"),
        ("- model: x\n  input: cheap\n", "entry 1 (line 1): `input` must be a number"),
        ("- model: x\n  output: 1\n  from: soon\n", "`from` must be a date"),
        ("- model: x\n", "entry 1 (line 1): give at least `input` or `output`"),
        ("- model: x\n  input: [1\n", "(line 3): not valid YAML"),
        ("model: x\n", "expected a list of entries"),
        ("- model: x\n  provider: langchain\n  input: 1\n", "is a framework, not a provider"),
    ],
)
def test_a_bad_price_file_says_where_and_what(text: str, message: str) -> None:
    with pytest.raises(InvalidPriceFile) as caught:
        parse_prices(text, "/etc/prices.yaml")
    assert "price file /etc/prices.yaml" in str(caught.value)
    assert message in str(caught.value)


def test_a_prices_mapping_and_an_empty_file_are_accepted() -> None:
    assert parse_prices("", "p.yaml") == []
    entries = parse_prices("prices:\n  - model: m\n    input: 1\n", "p.yaml")
    assert [entry.pattern for entry in entries] == ["m"]


def test_resolutions_are_cached_and_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    table = PriceTable(cache_size=100)
    resolved: list[str] = []
    resolve = table._resolve

    def counting(provider: str | None, model: str) -> Any:
        resolved.append(model)
        return resolve(provider, model)

    monkeypatch.setattr(table, "_resolve", counting)
    for _ in range(1000):
        table.price("openai", "gpt-4o-mini", ns(NOW))
        table.price("openai", "unknown-model", ns(NOW))
    assert resolved == ["gpt-4o-mini", "unknown-model"]  # an unknown model: one miss
    for i in range(5_000):  # a client sending a new model name per span
        table.price("openai", f"gpt-4o-{i}", ns(NOW))
    assert table.cached() == 100
    # Absurd names are never looked up nor cached.
    before = len(resolved)
    table.price("openai", "gpt-" + "x" * 10_000, ns(NOW))
    table.price("p" * 10_000, "gpt-4o", ns(NOW))
    assert len(resolved) == before


def test_the_table_travels_to_decode_workers_with_its_overrides() -> None:
    table = PriceTable(parse_prices(PRICES, "prices.yaml"), source="prices.yaml")
    table.price("openai", "gpt-4o-mini", ns(NOW))
    copy = pickle.loads(pickle.dumps(table))
    assert copy.cached() == 0
    assert copy.price("openai", "gpt-4o-mini", ns(NOW)) == table.price(
        "openai", "gpt-4o-mini", ns(NOW)
    )


# A fresh process prices one span; what did that import and allocate?
_FIRST_PRICED_SPAN = """
import sys, tracemalloc
from tracepond.conventions import SpanInput, default_prices, normalize, price_view

def span(operation):
    return normalize(SpanInput(name="x", attributes={
        "gen_ai.operation.name": operation, "gen_ai.provider.name": "openai",
        "gen_ai.request.model": "gpt-4o-mini", "gen_ai.usage.input_tokens": 1000}))

tracemalloc.start()
table = default_prices()
tool = span("execute_tool")
price_view(tool, 0, table)
nothing_priced = tracemalloc.get_traced_memory()[0]
chat = span("chat")
price_view(chat, 1748779200 * 10**9, table)
print(nothing_priced, tracemalloc.get_traced_memory()[0], chat.cost,
      "genai_prices" in sys.modules, "pydantic" in sys.modules)
"""


def test_pricing_loads_a_compact_table_late_and_never_genai_prices() -> None:
    """genai-prices' own table costs ~25 MB in every decoding process (server and workers)."""
    out = subprocess.run(
        [sys.executable, "-c", _FIRST_PRICED_SPAN],
        env=os.environ,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()
    nothing_priced, first_priced, cost = int(out[0]), int(out[1]), float(out[2])
    assert cost == pytest.approx(1000 * 0.15e-6)
    assert out[3:] == ["False", "False"]  # genai_prices, pydantic imported
    assert nothing_priced < 100_000  # a tool span loads nothing
    assert first_priced < 5 * 2**20  # ~2.5 MiB; genai-prices' ~25 MiB


def _generator() -> Any:
    path = Path(__file__).parents[2] / "scripts" / "generate_prices.py"
    spec = importlib.util.spec_from_file_location("generate_prices", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_shipped_table_is_the_installed_genai_prices_table() -> None:
    """A genai-prices upgrade that changes prices fails here until prices.json is regenerated
    (``python scripts/generate_prices.py``)."""
    shipped = Path(_prices.__file__).with_name("prices.json")
    assert shipped.exists(), "run scripts/generate_prices.py"
    generated = _generator().generate()
    assert shipped.read_text(encoding="utf-8") == generated, "run scripts/generate_prices.py"
    assert json.loads(generated)["source"] == f"genai-prices {version('genai-prices')}"


def _genai_prices_model(provider: str | None, name: str) -> str | None:
    try:
        vendor, model = get_snapshot().find_provider_model(name, None, provider, None)
    except LookupError:
        return None
    return f"genai-prices:{vendor.id}/{model.id}"


def test_lookups_pick_the_model_genai_prices_picks() -> None:
    """Every model id, and spellings of it that the rules must still resolve (case, a compact
    date suffix, a routing prefix), asked of its own provider, of none, and of providers that
    fall back to others' models: the model found is genai-prices' own."""
    table = PriceTable(cache_size=10)
    providers = get_snapshot().providers
    fallbacks = [p.id for p in providers if p.fallback_model_providers]
    checked = 0
    for provider in providers:
        for model in provider.models:
            for name in (model.id, model.id.upper() + "-20250514", f"openrouter/{model.id}"):
                for asked in (provider.id, None, *fallbacks):
                    found = table.price(asked, name, ns(NOW))
                    label = None if found is None else found[1]
                    expected = _genai_prices_model(asked, name)
                    if label != expected:
                        # Not priced by tokens (audio, pages): genai-prices finds the model.
                        assert found is None and _no_token_price(asked, name), (asked, name)
                    checked += 1
    assert checked > 25_000


def _no_token_price(provider: str | None, name: str) -> bool:
    _, model = get_snapshot().find_provider_model(name, None, provider, None)
    moments = [datetime(2023, 1, 1, tzinfo=UTC), NOW, datetime(2026, 12, 1, tzinfo=UTC)]
    return all(_only_other_units(model, moment) for moment in moments)


def test_an_unknown_model_is_looked_up_in_its_provider_only() -> None:
    from tracepond.conventions._bundled_prices import bundled_prices

    table = PriceTable()
    bundled = bundled_prices()
    before = set(bundled.compiled_providers())
    assert table.price("aws.bedrock", "no-such-model", ns(NOW)) is None
    assert table.price(None, "no-such-model-either", ns(NOW)) is None  # no provider claims it
    assert set(bundled.compiled_providers()) - before <= {"aws"}
    # A name a provider's rule claims is looked up in that provider (and its fallbacks) only.
    assert table.price(None, "claude-no-such-model", ns(NOW)) is None
    assert set(bundled.compiled_providers()) - before <= {"aws", "anthropic"}


def test_a_date_suffix_and_a_time_of_day_price_resolve_as_in_genai_prices() -> None:
    _, label = PriceTable().price("openai", "GPT-4o-mini-20240718", ns(NOW)) or (None, "")
    assert label == "genai-prices:openai/gpt-4o-mini"
    model, provider = _a_model_with_off_peak_prices()
    usage = Usage(1_000_000, 1_000_000)
    for hour in range(24):
        moment = NOW.replace(hour=hour, minute=45)
        found = PriceTable().price(provider, model, ns(moment))
        assert found is not None
        assert found[0].cost(usage) == pytest.approx(reference(usage, model, provider, moment))


def _a_model_with_off_peak_prices() -> tuple[str, str]:
    for provider in get_snapshot().providers:
        for model in provider.models:
            prices = model.prices if isinstance(model.prices, list) else []
            if any(isinstance(entry.constraint, TimeOfDateConstraint) for entry in prices):
                return model.id, provider.id
    raise AssertionError("no model with time-of-day prices in the bundled table")

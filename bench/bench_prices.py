"""What the price table costs a decoding process: memory, pickling and lookups.

Each figure comes from a fresh child process, so that nothing loaded by an earlier measurement
counts. Run it against two source trees to compare them (rounds alternate the trees, so that a
neighbour's load on a shared machine affects both alike):

    .venv/bin/python bench/bench_prices.py --src src --src /path/to/other/src [--rounds 3]

Per tree and round:

* RSS (``/proc/self/statm``) after importing ``tracepond.conventions`` and building the default
  table, then after pricing one span (what the first priced span loads), and the difference;
  the CPU time of that first priced span (ms);
* the pickled size of the default table and of one with a three-entry ``--prices`` file (what
  goes to each decode worker);
* µs per lookup (thread CPU time, best of 5 runs): a cached model, a known model the cache has
  not seen (the cache is emptied before each lookup), with and without a provider, and an
  unknown model (a new name each time), with a provider and without.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from typing import Any

_CHILD = r"""
import json, os, pickle, sys, time

def rss_kib():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") // 1024

from tracepond.conventions import PriceTable, SpanInput, default_prices, normalize, price_view
from tracepond.price_file import parse_prices

NS = 1_748_779_200 * 10**9  # 2025-06-01
result = {}
table = default_prices()
before = rss_kib()
view = normalize(SpanInput(name="chat", attributes={
    "gen_ai.operation.name": "chat", "gen_ai.provider.name": "openai",
    "gen_ai.request.model": "gpt-4o-mini", "gen_ai.usage.input_tokens": 10}))
started = time.thread_time_ns()
price_view(view, NS, table)
result["first_span_ms"] = round((time.thread_time_ns() - started) / 1e6, 1)
assert view.cost is not None
after = rss_kib()
result["rss_before_kib"], result["rss_after_kib"] = before, after
result["genai_prices_imported"] = "genai_prices" in sys.modules
overrides = parse_prices(
    "- {model: a*, input: 1}\n- {model: b*, provider: openai, input: 2}\n- {model: c, output: 3}\n",
    "p.yaml",
)
result["pickle_default_bytes"] = len(pickle.dumps(PriceTable()))
result["pickle_overrides_bytes"] = len(pickle.dumps(PriceTable(overrides, source="p.yaml")))

KNOWN = [("openai", "gpt-4o-mini"), ("anthropic", "claude-sonnet-4-5"),
         ("gcp.gemini", "gemini-2.5-pro"), ("openai", "o3-mini"),
         ("aws.bedrock", "amazon.nova-pro-v1:0"), ("azure.ai.openai", "gpt-4.1"),
         ("groq", "llama-3.3-70b-versatile"), ("mistral_ai", "mistral-large-latest")]

def best_us(run, count):
    best = float("inf")
    for _ in range(5):
        start = time.thread_time_ns()
        run(count)
        best = min(best, (time.thread_time_ns() - start) / count / 1000)
    return round(best, 2)

def cached(count):
    for i in range(count):
        provider, model = KNOWN[i % len(KNOWN)]
        table.price(provider, model, NS)

def uncached(strip_provider):
    def run(count):
        for i in range(count):
            provider, model = KNOWN[i % len(KNOWN)]
            table._cache.clear()
            table.price(None if strip_provider else provider, model, NS)
    return run

serial = iter(range(10**9))
def unknown(provider):
    def run(count):
        for _ in range(count):
            table.price(provider, f"no-such-model-{next(serial)}", NS)
    return run

for _ in range(2):
    for provider, model in KNOWN:
        assert table.price(provider, model, NS) is not None, (provider, model)
result["cached_us"] = best_us(cached, 20_000)
result["uncached_known_us"] = best_us(uncached(False), 400)
result["uncached_known_no_provider_us"] = best_us(uncached(True), 400)
result["unknown_openai_us"] = best_us(unknown("openai"), 400)
result["unknown_openrouter_us"] = best_us(unknown("openrouter"), 400)
result["unknown_no_provider_us"] = best_us(unknown(None), 400)
print(json.dumps(result))
"""


def measure(src: str) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": os.path.abspath(src)}
    out = subprocess.run(
        [sys.executable, "-c", _CHILD], env=env, check=True, capture_output=True, text=True
    )
    result: dict[str, Any] = json.loads(out.stdout)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--src", action="append", required=True, help="a source tree (repeat)")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    for round_number in range(1, args.rounds + 1):
        for src in args.src:
            result = measure(src)
            grew = (result["rss_after_kib"] - result["rss_before_kib"]) / 1024
            print(f"round {round_number} {src}: first priced span +{grew:.1f} MiB RSS", result)


if __name__ == "__main__":
    main()

"""Trace and span ids from a random generator that no user code can seed.

OTel's `RandomIdGenerator` draws from the global `random` module. A script that calls
`random.seed(42)` (for reproducible sampling, shuffles, tests...) then makes the same trace ids
on every run, and the server takes the second run's spans for copies of the first's and keeps
only those. tracepond's ids come from a private `random.Random` seeded from `os.urandom`: as
cheap per id as the global one (`os.urandom` per id costs several times more), and out of
reach of `random.seed`. It is re-seeded in a forked child, as `random` itself is, so that
parent and child never share ids.
"""

from __future__ import annotations

import os
import random

from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.id_generator import RandomIdGenerator

_random = random.Random()  # no seed given: seeded from os.urandom
_getrandbits = _random.getrandbits

if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_random.seed)


def span_id() -> int:
    """A random, non-zero 64-bit span id."""
    value = _getrandbits(64)
    while not value:
        value = _getrandbits(64)
    return value


def trace_id() -> int:
    """A random, non-zero 128-bit trace id."""
    value = _getrandbits(128)
    while not value:
        value = _getrandbits(128)
    return value


class PrivateIdGenerator(RandomIdGenerator):
    """OTel's default id generator, drawing from tracepond's private generator instead of the
    global `random` (a subclass: whatever checks for random trace ids still finds them)."""

    def generate_span_id(self) -> int:
        return span_id()

    def generate_trace_id(self) -> int:
        return trace_id()


def adopt(provider: TracerProvider) -> None:
    """Give `provider` the private generator if it has OTel's default one.

    A provider with any other generator keeps it: the application chose it on purpose. Tracers
    read the generator when they are made, so tracers made before this keep the old one.
    """
    if type(provider.id_generator) is RandomIdGenerator:
        provider.id_generator = PrivateIdGenerator()

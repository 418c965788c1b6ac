"""The pages benchmark runs (tiny sizes; the real figures are in docs/benchmarks.md)."""

from __future__ import annotations

from bench.pages import pages_bench


async def test_the_pages_benchmark_times_the_three_pages_of_a_seeded_crisis() -> None:
    results = await pages_bench.bench(deliveries=300, requests=2)
    assert set(results) == {"dashboard", "crisis page", "tracking page"}
    assert all(0 < figures["p50"] <= figures["max"] for figures in results.values())

"""The CIP benchmark runs against a real `tocsin serve` (tiny sizes; the figures are in
docs/benchmarks.md)."""

from __future__ import annotations

import pytest

from bench.cip import cip_bench


async def test_the_cip_benchmark_saves_calls_through_a_served_tocsin_and_counts_its_cpu(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Twenty saves: the server's CPU is read in clock ticks (10 ms), which four saves on a fast
    # machine (2 to 4 ms each) may not reach.
    await cip_bench.main(None, entries=5, operators=2, calls=10, pace=0, served=1)
    printed = capsys.readouterr().out
    assert "2 opérateurs enregistrant au même instant, 10 fois : médiane" in printed
    assert "serveur (1 processus web)" in printed
    assert "serveur (1 processus web) 0.00 ms" not in printed  # the server's CPU was counted

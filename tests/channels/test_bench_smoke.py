"""The benchmark code runs (tiny sizes; the real figures are in docs/benchmarks.md)."""

from __future__ import annotations

from bench.channels import email_bench, telegram_bench


def test_the_email_benchmark_runs_and_delivers_everything() -> None:
    result = email_bench.bench(messages=50, rounds=1, apprise_messages=0)
    assert result["raw"] > 0 and result["adapter"] > 0


def test_the_telegram_benchmark_runs_without_429_or_loss() -> None:
    results = telegram_bench.bench(messages=10, chats=10)
    for result in results.values():
        assert result["dropped"] == 0 and result["failed"] == 0

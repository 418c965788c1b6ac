"""The public load bench reads its tools' summaries right (bench/public/public_bench.py)."""

from __future__ import annotations

from bench.public.public_bench import read_hey, read_wrk

WRK = """Running 10s test @ http://127.0.0.1:8000/public/feed.atom
  2 threads and 32 connections
  Latency Distribution
     50%    7.72ms
     75%   11.20ms
     90%   18.70ms
     99%  451.00us
  34280 requests in 10.00s, 70.12MB read
  Non-2xx or 3xx responses: 3
Requests/sec:   3428.12
Transfer/sec:      7.01MB
"""

HEY = """Summary:
  Requests/sec:\t1994.2188

Latency distribution:
  10%% in 0.0021 secs
  50%% in 0.0050 secs
  90%% in 0.0112 secs
  99%% in 0.0195 secs

Status code distribution:
  [200]\t19940 responses
  [503]\t2 responses
"""


def test_the_bench_reads_wrks_rate_percentiles_in_their_units_and_errors() -> None:
    got = read_wrk(WRK)
    assert got == {"rate": 3428.12, "p50_ms": 7.72, "p90_ms": 18.7, "p99_ms": 0.451, "errors": 3}


def test_the_bench_reads_heys_rate_percentiles_and_answers_other_than_200() -> None:
    got = read_hey(HEY)
    assert got["rate"] == 1994.2188 and got["errors"] == 2
    assert (got["p50_ms"], got["p90_ms"], got["p99_ms"]) == (5.0, 11.2, 19.5)

"""The load benchmark's `--everything` mode reads hey right and reports the kill as clients saw
it (bench/load/everything.py, bench/load/report.py; the figures are in docs/benchmarks.md)."""

from __future__ import annotations

from bench.load import everything, report
from tests.crisis.public import test_public_bench_reading as reading

HEY = (
    reading.HEY.replace("  99%%", "  95%% in 0.0150 secs\n  99%%")
    + "\nError distribution:\n"
    + '  [21]\tGet "http://127.0.0.1:8001/public/feed.atom": dial tcp: connection refused\n'
)


def test_hey_is_read_with_its_p95_and_counts_refused_connections_as_errors() -> None:
    got = everything.read_hey(HEY)
    assert got == {
        "rate": 1994.2188,
        "count": 19963,
        "errors": 23,
        "p50_ms": 5.0,
        "p95_ms": 15.0,
        "p99_ms": 19.5,
    }


def test_clients_move_off_a_dead_instance_and_come_back_to_none_when_all_are_dead() -> None:
    hosts = everything.Hosts(["http://a", "http://b"])
    assert [hosts.pick(n) for n in range(3)] == ["http://a", "http://b", "http://a"]
    hosts.dead.add("http://a")
    assert {hosts.pick(n) for n in range(3)} == {"http://b"}
    hosts.dead.add("http://b")
    assert hosts.pick(1) == "http://b"  # nothing alive: keep trying the list


def test_the_kill_counts_the_client_errors_from_just_before_it_and_the_floods_ratio() -> None:
    at = 1000.0
    watched = [
        report.Sample(at - 60, "dashboard", 900.0, False),  # long before: not the kill's
        report.Sample(at - 1, "crisis", 1200.0, False),
        report.Sample(at + 2, "tracking", 3.0, False),
        report.Sample(at + 3, "tracking", 40.0, True),
    ]
    cip = [
        report.Sample(at - 0.5, "cip_burst", 800.0, False),
        report.Sample(at, "cip_burst", 90.0, True),
    ]
    results = {
        "drill": {"launch_s": 0.4, "crisis_id": 7},
        "cip": {"operators": 2, "retried": 1, "logged": 1},
        "raw_limit": {"rate": 1000.0},
        "public": {"seconds": 10.0, "per_s": 400.0, "errors": 0, "pages": {}},
        "kill": {
            "killed_at": at,
            "was_leader": True,
            "claims_back_s": 6.5,
            "leader_s": 7.0,
            "settled_before": 3000,
        },
    }
    windows = {"idle": (at - 100, at - 10), "fanout": (at - 10, at + 10)}
    got = report.everything(results, watched, cip, windows)

    assert got["kill"]["client_errors"] == 3
    assert got["kill"]["client_errors_by_name"] == {"crisis": 1, "tracking": 1, "cip_burst": 1}
    assert (got["kill"]["errors_from_s"], got["kill"]["errors_to_s"]) == (-1.0, 2.0)
    assert got["public_ratio"] == 0.4
    assert got["cip"]["saved"] == 1 and got["cip"]["fanout"]["cip_burst"]["errors"] == 1
    line = report.EVERYTHING_ROWS[-1][1](got)
    assert "meneuse" in line and "6,5 s" in line and "3 erreurs" in line

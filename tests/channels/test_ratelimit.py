from __future__ import annotations

import pytest

from channels.ratelimit import RateLimiters, TokenBucket
from tests.channels.conftest import ManualClock


def test_a_bucket_spaces_tokens_at_its_rate(clock: ManualClock) -> None:
    bucket = TokenBucket(rate=2.0, clock=clock)
    assert bucket.reserve() == 0
    assert bucket.reserve() == pytest.approx(0.5)
    assert bucket.reserve() == pytest.approx(1.0)


def test_a_bucket_allows_a_burst_up_to_its_capacity(clock: ManualClock) -> None:
    bucket = TokenBucket(rate=1.0, capacity=3, clock=clock)
    assert [bucket.try_acquire() for _ in range(4)] == [True, True, True, False]
    clock.advance(1.0)
    assert bucket.try_acquire()
    assert not bucket.try_acquire()


def test_idle_time_refills_no_more_than_the_capacity(clock: ManualClock) -> None:
    bucket = TokenBucket(rate=10.0, capacity=2, clock=clock)
    clock.advance(3600)
    assert [bucket.try_acquire() for _ in range(3)] == [True, True, False]


def test_pause_until_holds_every_token_until_the_instant(clock: ManualClock) -> None:
    bucket = TokenBucket(rate=30.0, clock=clock)
    bucket.pause_until(clock() + 5)
    assert bucket.delay() == pytest.approx(5)
    clock.advance(5)
    assert bucket.try_acquire()


def test_over_any_second_a_28_5_bucket_stays_under_telegrams_30(clock: ManualClock) -> None:
    bucket = TokenBucket(rate=28.5, clock=clock)
    instants = []
    for _ in range(300):
        clock.advance(bucket.reserve())
        instants.append(clock())
    for i, start in enumerate(instants):
        assert sum(1 for t in instants[i:] if t - start < 1.0) <= 29


def test_the_same_key_gives_the_same_bucket(clock: ManualClock) -> None:
    limiters = RateLimiters(clock=clock)
    assert limiters.bucket("telegram:a", rate=30) is limiters.bucket("telegram:a", rate=30)
    assert limiters.bucket("telegram:a", rate=30) is not limiters.bucket("telegram:b", rate=30)


def test_a_bucket_refuses_a_nonsense_rate() -> None:
    with pytest.raises(ValueError):
        TokenBucket(rate=0)

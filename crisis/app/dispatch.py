"""The dispatcher, wired: built from settings, ticked by every instance, closed at shutdown."""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from datetime import datetime

from prometheus_client import CollectorRegistry

from channels.config import ChannelsConfig
from channels.ratelimit import RateLimiters
from channels.registry import build_channels, sections
from crisis.app.clock import Clock
from crisis.app.db import Database
from crisis.app.settings import Settings
from crisis.app.signing import confirmation_secret
from crisis.bulletin import confirmations
from crisis.dispatch.budget import shared_limiters
from crisis.dispatch.dispatcher import Dispatcher, DispatchTuning, Transactions
from crisis.dispatch.metrics import DispatchMetrics

log = logging.getLogger("tocsin.dispatcher")


def build_dispatcher(
    settings: Settings,
    db: Database,
    clock: Clock,
    *,
    registry: CollectorRegistry | None = None,
) -> Dispatcher:
    """Real channels from ``settings.channels``, exercise channels from
    ``settings.exercise_channels``; metrics on the app's registry when given."""
    return dispatcher_from_config(
        db=db,
        channels=settings.channels,
        exercise_channels=settings.exercise_channels,
        tuning=settings.dispatch,
        metrics=DispatchMetrics(registry),
        clock=clock.now,
        personalise=confirmation_links(settings),
    )


def dispatcher_from_config(
    *,
    db: Transactions,
    channels: ChannelsConfig,
    exercise_channels: ChannelsConfig,
    tuning: DispatchTuning | None = None,
    personalise: Callable[[str, int], str] | None = None,
    clock: Callable[[], datetime] | None = None,
    rng: random.Random | None = None,
    limiters: RateLimiters | None = None,
    metrics: DispatchMetrics | None = None,
) -> Dispatcher:
    """Adapters built from configuration, paced at their providers' declared limits (on
    PostgreSQL, each account's limits shared with the other instances: ``shared_limiters``);
    the exercise set is built on its own."""
    real = build_channels(channels)
    exercise = build_channels(exercise_channels)
    for kind, section in sections(exercise_channels).items():
        if kind in exercise and not section.sandbox:
            log.warning("exercise channel %s is not marked as a sandbox", kind.value)
    return Dispatcher(
        db=db,
        real=real,
        exercise=exercise,
        real_config=channels,
        exercise_config=exercise_channels,
        tuning=tuning,
        personalise=personalise,
        clock=clock,
        rng=rng,
        limiters=limiters or shared_limiters(db),
        metrics=metrics,
    )


def confirmation_links(settings: Settings) -> Callable[[str, int], str]:
    """Each official's own signed receipt-confirmation link, put in at send time."""
    secret = confirmation_secret(settings)

    def personalise(text: str, delivery_id: int) -> str:
        return confirmations.personalise(
            text, delivery_id=delivery_id, secret=secret, base_url=settings.base_url
        )

    return personalise

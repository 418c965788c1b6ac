"""The dispatcher, wired: built from settings, ticked by every instance, closed at shutdown."""

from __future__ import annotations

from collections.abc import Callable

from prometheus_client import CollectorRegistry

from crisis.app.clock import Clock
from crisis.app.db import Database
from crisis.app.settings import Settings
from crisis.app.signing import confirmation_secret
from crisis.bulletin import confirmations
from crisis.dispatch.dispatcher import Dispatcher
from crisis.dispatch.metrics import DispatchMetrics


def build_dispatcher(
    settings: Settings,
    db: Database,
    clock: Clock,
    *,
    registry: CollectorRegistry | None = None,
) -> Dispatcher:
    """Real channels from ``settings.channels``, exercise channels from
    ``settings.exercise_channels``; metrics on the app's registry when given."""
    return Dispatcher.from_config(
        db=db,
        channels=settings.channels,
        exercise_channels=settings.exercise_channels,
        tuning=settings.dispatch,
        metrics=DispatchMetrics(registry),
        clock=clock.now,
        personalise=confirmation_links(settings),
    )


def confirmation_links(settings: Settings) -> Callable[[str, int], str]:
    """Each official's own signed receipt-confirmation link, put in at send time."""
    secret = confirmation_secret(settings)

    def personalise(text: str, delivery_id: int) -> str:
        return confirmations.personalise(
            text, delivery_id=delivery_id, secret=secret, base_url=settings.base_url
        )

    return personalise

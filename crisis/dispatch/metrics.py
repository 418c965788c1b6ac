"""Prometheus series of the dispatcher, registered on the registry it is handed."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge

__all__ = ["DispatchMetrics"]


class DispatchMetrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        self.deliveries = Counter(
            "tocsin_deliveries",
            "Deliveries handled by the dispatcher, by channel and outcome.",
            ["channel", "outcome"],
            registry=self.registry,
        )
        self.isolation_refusals = Counter(
            "tocsin_isolation_refusals",
            "Deliveries refused to keep an exercise away from real recipients.",
            registry=self.registry,
        )
        self.lease_recoveries = Counter(
            "tocsin_delivery_lease_recoveries",
            "Deliveries found in 'sending' past their lease (a crash) and put back to retry.",
            registry=self.registry,
        )
        self.due = Gauge(
            "tocsin_deliveries_due",
            "Deliveries due now (pending or retrying, next attempt reached).",
            registry=self.registry,
        )

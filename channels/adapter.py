"""The base of every adapter: its kind and name, its configuration, its health report."""

from __future__ import annotations

from typing import ClassVar, Generic, TypeVar

from channels.base import ChannelHealth
from channels.config import ChannelSection
from channels.kinds import ChannelKind

__all__ = ["Adapter"]

C = TypeVar("C", bound=ChannelSection)


class Adapter(Generic[C]):
    KIND: ClassVar[ChannelKind]

    def __init__(self, config: C, *, name: str) -> None:
        self._config = config
        self._name = name

    @property
    def kind(self) -> ChannelKind:
        return self.KIND

    @property
    def name(self) -> str:
        return self._name

    def _secrets(self) -> list[str]:
        """The credentials no error message may show."""
        return []

    def _health(self, *, ok: bool, detail: str, settings: dict[str, str]) -> ChannelHealth:
        return ChannelHealth(
            kind=self.KIND,
            name=self._name,
            ok=ok,
            detail=detail,
            sandbox=self._config.sandbox,
            settings=settings,
        )

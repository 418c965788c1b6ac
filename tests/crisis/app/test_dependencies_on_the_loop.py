"""Every endpoint and every dependency of every route runs on the event loop: FastAPI hands a
plain `def` to its thread pool, one thread hand-off (and a wait for the GIL) per request."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator
from typing import Any

from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from crisis.app.factory import ROUTERS


def _calls(dependant: Dependant) -> Iterator[Callable[..., Any]]:
    for sub in dependant.dependencies:
        if sub.call is not None:
            yield sub.call
        yield from _calls(sub)


def _on_the_loop(call: Callable[..., Any]) -> bool:
    method = None if inspect.isfunction(call) else type(call).__call__  # a callable object
    return inspect.iscoroutinefunction(call) or inspect.iscoroutinefunction(method)


def test_no_route_hands_its_endpoint_or_a_dependency_to_the_thread_pool() -> None:
    routes = [r for router in ROUTERS for r in router.routes if isinstance(r, APIRoute)]
    threaded = {
        f"{route.path}: {call.__module__}.{call.__qualname__}"
        for route in routes
        for call in _calls(route.dependant)
        if not _on_the_loop(call)
    }
    threaded |= {route.path for route in routes if not _on_the_loop(route.endpoint)}
    assert len(routes) > 200
    assert threaded == set()

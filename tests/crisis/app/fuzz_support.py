"""Schemathesis against `/openapi.json`, as each role and anonymous: the driver the fuzz test
and bench/fuzz share.

Each operation gets cases drawn from its declared schema (valid ones, and invalid ones the
route must refuse with a 4xx); every answer goes through schemathesis's conformance checks
(no 5xx, the status declared, the body matching its declared schema, the content type and
headers declared). Ids the API hands back (`id` of a created row, any `…_id` in a body) are
reused in later path parameters, so a drawn case can read and act on what an earlier one
created. Every path is also asked with the methods it does not serve: 405 naming the others.
"""

from __future__ import annotations

import contextlib
import random
import re
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import hypothesis
import schemathesis
from hypothesis import HealthCheck, given
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import Failure, FailureGroup
from schemathesis.python import asgi
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.crisis.bulletin_support import declare, load_directory, published
from tests.support import make_user

ROLES: dict[str, tuple[str, ...]] = {
    "anonyme": (),
    "prefet": ("prefect",),
    "directeur-cabinet": ("prefect", "validator", "admin"),
    "valideur": ("validator",),
    "communicant": ("communicator",),
    "formateur": ("trainer",),
    "operateur": ("operator",),
    "chef-cip": ("operator",),
    "admin": ("admin",),
}
"""Who fuzzes: the roles of `crisis.actors.Role`, and the demo's combined profiles (the cabinet
director holds three roles, the CIP head is an operator the roster names head)."""

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
_COLLECTIONS = {
    "crises": "crisis_id",
    "bulletins": "bulletin_id",
    "exercises": "drill_id",
    "launch": "run_id",
    "injects": "inject_id",
    "contacts": "contact_id",
    "operators": "shift_id",
    "calls": "call_id",
    "faq": "entry_id",
}
"""The path parameter a created row's `id` fills, by the last segment of the path that made it."""
_PARAMETER = re.compile(r"\{(\w+)\}")


@dataclass(frozen=True)
class Finding:
    kind: str
    role: str
    method: str
    path: str
    status: int
    detail: str


@dataclass
class Report:
    requests: Counter[str] = field(default_factory=Counter)
    statuses: Counter[int] = field(default_factory=Counter)
    findings: list[Finding] = field(default_factory=list)
    links: int = 0
    """Links between operations schemathesis inferred for the stateful phase."""

    def kinds(self, kind: str) -> list[Finding]:
        return [f for f in self.findings if f.kind == kind]

    def distinct(self, kind: str) -> set[tuple[str, str, int]]:
        return {(f.method, f.path, f.status) for f in self.kinds(kind)}


@dataclass
class _Ids:
    """Ids seen in answers, by path parameter name."""

    known: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))

    def learn(self, path: str, status: int, body: Any) -> None:
        """A created row (`POST …/crises` → 201 `{"id": …}`) or a listed one (`GET …/crises`)
        fills the collection's parameter; any `…_id` in a body fills its own."""
        name = _COLLECTIONS.get(path.rstrip("/").rsplit("/", 1)[-1])
        if name and status < 300:
            rows = body if isinstance(body, list) else [body]
            for row in rows[:20]:
                if isinstance(row, dict) and isinstance(row.get("id"), int):
                    self._add(name, row["id"])
        self._harvest(body)

    def _harvest(self, body: Any) -> None:
        if isinstance(body, dict):
            for key, value in body.items():
                if key.endswith("_id") and isinstance(value, int) and not isinstance(value, bool):
                    self._add(key, value)
                else:
                    self._harvest(value)
        elif isinstance(body, list):
            for item in body[:20]:
                self._harvest(item)

    def _add(self, name: str, value: int) -> None:
        if value not in self.known[name]:
            self.known[name].append(value)


def operations(schema: Any) -> list[Any]:
    """Every operation the OpenAPI declares, the ones that create rows first."""
    found = [result.ok() for result in schema.get_all_operations()]
    return sorted(found, key=lambda op: (op.path.count("{"), op.method.upper() != "POST", op.path))


def fuzz(
    app: Any,
    tokens: dict[str, str | None],
    *,
    max_examples: int,
    seed: int,
    stateful_examples: int = 0,
    modes: tuple[GenerationMode, ...] = (GenerationMode.POSITIVE, GenerationMode.NEGATIVE),
) -> Report:
    """Run every operation as every role in `tokens` (login → bearer token, None: anonymous)."""
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    report = Report()
    if stateful_examples:
        report.links = schema.analysis.inject_links()
    roles = {role: {"Authorization": f"Bearer {t}"} if t else {} for role, t in tokens.items()}
    try:
        with asgi.get_client(app) as session:
            fuzzer = _Fuzzer(session, report, random.Random(seed), max_examples, seed)
            for operation in operations(schema):
                for mode in modes:
                    fuzzer.one(operation, mode, roles)
            for role, headers in roles.items():
                if headers and stateful_examples:  # the authenticated roles
                    _stateful(
                        schema, session, role, headers, report, max_examples=stateful_examples
                    )
            _probe_methods(schema, session, tokens, report)
    finally:
        asgi.shutdown_lifespans()
    return report


@dataclass
class _Fuzzer:
    session: Any
    report: Report
    chance: random.Random
    max_examples: int
    seed: int
    ids: _Ids = field(default_factory=_Ids)

    def one(self, operation: Any, mode: GenerationMode, roles: dict[str, dict[str, str]]) -> None:
        """`max_examples` cases of one operation, in one mode, each sent as every role (headers
        by role). Drawn once for all: the same seed drew the same cases for each role anyway,
        and the drawing costs more than the answering."""

        @hypothesis.seed(self.seed)
        @hypothesis.settings(
            max_examples=self.max_examples,
            deadline=None,
            database=None,
            phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy(generation_mode=mode))
        def run(case: Any) -> None:
            drawn = dict(case.path_parameters or {})
            for role, headers in roles.items():
                if mode is GenerationMode.POSITIVE:
                    if drawn:  # each role aims at known rows afresh, from the drawn ids
                        case.path_parameters = dict(drawn)
                    _reuse_ids(case, self.ids, self.chance)
                response = case.call(session=self.session, headers=headers)
                with contextlib.suppress(ValueError):  # not JSON (the metrics)
                    self.ids.learn(operation.path, response.status_code, response.json())
                _check(case, response, role, headers, self.report)

        with contextlib.suppress(hypothesis.errors.Unsatisfiable):
            run()  # unsatisfiable: nothing of this operation can be made invalid (no input)


def _check(case: Any, response: Any, role: str, headers: dict[str, str], report: Report) -> None:
    report.requests[role] += 1
    report.statuses[response.status_code] += 1
    try:
        case.validate_response(response, checks=CHECKS, headers=headers)
    except (Failure, FailureGroup) as error:
        for failure in _failures(error):
            report.findings.append(
                Finding(
                    kind=type(failure).__name__,
                    role=role,
                    method=case.operation.method.upper(),
                    path=case.operation.path,
                    status=response.status_code,
                    detail=f"{failure.title}: {response.text[:160]}",
                )
            )


def _stateful(
    schema: Any,
    session: Any,
    role: str,
    headers: dict[str, str],
    report: Report,
    *,
    max_examples: int,
) -> None:
    """Schemathesis's stateful phase: scenarios that follow the links it infers between
    operations (a created crisis's `id` into `{crisis_id}`, and so on)."""

    class Scenarios(schema.as_state_machine()):  # type: ignore[misc]
        def get_call_kwargs(self, case: Any) -> dict[str, Any]:
            return {"headers": headers, "session": session}

        def validate_response(self, response: Any, case: Any, *args: Any, **kwargs: Any) -> None:
            _check(case, response, f"{role} (liens)", headers, report)

    # A scenario draws from what earlier answers held (the ids the links carry): when the
    # database has moved on, hypothesis sees the same choices draw differently and stops the
    # role's scenarios. What was asked until then is kept and checked.
    with contextlib.suppress(hypothesis.errors.FlakyStrategyDefinition):
        Scenarios.run(
            settings=hypothesis.settings(
                max_examples=max_examples,
                stateful_step_count=8,
                deadline=None,
                database=None,
                derandomize=True,
                suppress_health_check=list(HealthCheck),
            )
        )


def _failures(error: BaseException) -> Iterator[Failure]:
    if isinstance(error, FailureGroup):
        for inner in error.exceptions:
            yield from _failures(inner)
    elif isinstance(error, Failure):
        yield error


def _reuse_ids(case: Any, ids: _Ids, chance: random.Random) -> None:
    """Most valid cases aim at a row that exists (read, then act on what was created)."""
    for name in list(case.path_parameters or {}):
        known = ids.known.get(name)
        if known and chance.random() < 0.8:
            case.path_parameters[name] = chance.choice(known)


def _probe_methods(
    schema: Any, session: Any, tokens: dict[str, str | None], report: Report
) -> None:
    """Each path asked with the methods it does not declare: 405 with an `Allow` header."""
    token = next((t for t in tokens.values() if t), None)
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    for path, declared in schema.raw_schema["paths"].items():
        url = _PARAMETER.sub("1", path)
        for method in _METHODS:
            if method.lower() in declared:
                continue
            response = session.request(method, url, headers=headers)
            report.requests["méthodes"] += 1
            report.statuses[response.status_code] += 1
            allow = response.headers.get("Allow", "")
            served = {m.upper() for m in declared if m.upper() in _METHODS}
            if response.status_code >= 500 or (
                response.status_code == 405 and not served <= set(allow.replace(" ", "").split(","))
            ):
                report.findings.append(
                    Finding(
                        kind="MethodNotAllowed",
                        role="méthodes",
                        method=method,
                        path=path,
                        status=response.status_code,
                        detail=f"Allow: {allow!r}",
                    )
                )


async def seed(db: Any, clock: Any) -> dict[str, str | None]:
    """One user per role (anonymous has no token), the directory, one crisis with a bulletin:
    bearer tokens by login."""
    tokens: dict[str, str | None] = {}
    for login, roles in ROLES.items():
        tokens[login] = (await make_user(db, clock, login, *roles)).token if roles else None
    await load_directory(db, clock.now())
    crisis_id = await declare(db, clock.now())
    await published(db, clock.now(), crisis_id=crisis_id)
    return tokens

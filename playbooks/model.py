"""The playbook as plain, immutable values: what the YAML files describe once loaded."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, get_args

Audience = Literal["officials", "media", "public", "staff"]
Channel = Literal["email", "sms", "telegram", "x", "mastodon", "matrix", "webhook", "public_page"]
Role = Literal["prefect", "validator", "communicator", "trainer", "operator", "admin"]
Action = Literal[
    "order_cell",
    "activate_cod",
    "publish_first_bulletin",
    "activate_cip",
    "declare_cell_operational",
]
PlaceholderType = Literal["communes", "time", "text", "instructions", "phone", "url", "next_update"]
Purpose = Literal["first_information", "update", "cip_opening", "end_of_event"]

CapCategory = Literal[
    "Geo",
    "Met",
    "Safety",
    "Security",
    "Rescue",
    "Fire",
    "Health",
    "Env",
    "Transport",
    "Infra",
    "CBRNE",
    "Other",
]
CapUrgency = Literal["Immediate", "Expected", "Future", "Past", "Unknown"]
CapSeverity = Literal["Extreme", "Severe", "Moderate", "Minor", "Unknown"]
CapCertainty = Literal["Observed", "Likely", "Possible", "Unlikely", "Unknown"]

AUDIENCES: tuple[Audience, ...] = get_args(Audience)
CHANNELS: tuple[Channel, ...] = get_args(Channel)
ROLES: tuple[Role, ...] = get_args(Role)
ACTIONS: tuple[Action, ...] = get_args(Action)
PLACEHOLDER_TYPES: tuple[PlaceholderType, ...] = get_args(PlaceholderType)
PURPOSES: tuple[Purpose, ...] = get_args(Purpose)

# The audiences every playbook must brief in its first message (ES48).
FIRST_INFORMATION_AUDIENCES: tuple[Audience, ...] = ("officials", "media", "public")


@dataclass(frozen=True, slots=True)
class Placeholder:
    """A typed hole in a template, with the values used to preview and check it.

    `sample` is a typical value, `longest` the longest plausible one (used for the channel
    limits). `default` is a pre-validated value used when the crisis gives none.
    """

    name: str
    type: PlaceholderType
    label: str
    sample: object
    longest: object
    default: object | None = None


@dataclass(frozen=True, slots=True)
class ChecklistStep:
    title: str
    role: Role
    due_offset_min: int
    action: Action | None = None


@dataclass(frozen=True, slots=True)
class MessageTemplate:
    """One message of the playbook; `channel` None means the full form for every channel."""

    key: str
    purpose: Purpose
    audience: Audience
    title: str
    body: str
    channel: Channel | None = None
    line: int = 0


@dataclass(frozen=True, slots=True)
class ScenarioInject:
    """One inject of the playbook's ready-made drill scenario (`exercises` takes it)."""

    offset_min: int
    audience: Audience
    text: str
    channel: str | None = None
    expected_action: str | None = None
    expected_kind: str | None = None
    deadline_min: int | None = None
    line: int = 0


@dataclass(frozen=True, slots=True)
class CapInfo:
    category: CapCategory
    event: str
    urgency: CapUrgency
    severity: CapSeverity
    certainty: CapCertainty


@dataclass(frozen=True, slots=True)
class Playbook:
    key: str
    title: str
    kind: str
    summary: str
    audiences: tuple[Audience, ...]
    channels: tuple[Channel, ...]
    cap: CapInfo
    placeholders: dict[str, Placeholder]
    checklist: tuple[ChecklistStep, ...]
    templates: tuple[MessageTemplate, ...]
    source: str = ""
    references: tuple[str, ...] = field(default=())
    scenario: tuple[ScenarioInject, ...] = field(default=())

    def templates_for(
        self,
        *,
        purpose: Purpose | None = None,
        audience: Audience | None = None,
        channel: Channel | None = None,
    ) -> list[MessageTemplate]:
        return [
            template
            for template in self.templates
            if (purpose is None or template.purpose == purpose)
            and (audience is None or template.audience == audience)
            and (channel is None or template.channel == channel)
        ]

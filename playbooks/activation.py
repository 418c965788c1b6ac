"""What a crisis takes from its playbook: a copy of the checklist and filled-in messages.

Both are pure functions. The checklist is copied into plain items with absolute due times,
so the crisis can store them in its own table: a later edit of the YAML file never changes
a running crisis.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from playbooks.model import Action, Audience, Channel, Playbook, Purpose, Role
from playbooks.rendering import TemplateProblem, TemplateRenderError, render_text


@dataclass(frozen=True, slots=True)
class ChecklistItem:
    position: int  # 1-based, in due order
    title: str
    role: Role
    due_offset_min: int
    due_at: datetime
    action: Action | None
    playbook_key: str


@dataclass(frozen=True, slots=True)
class FilledMessage:
    template_key: str
    purpose: Purpose
    audience: Audience
    channel: Channel | None  # None: the full form, for every channel without a variant
    title: str
    body: str


@dataclass(frozen=True, slots=True)
class FillResult:
    """The messages when every value is there and valid; otherwise the problems, none filled."""

    messages: tuple[FilledMessage, ...]
    problems: tuple[TemplateProblem, ...]

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def missing(self) -> tuple[str, ...]:
        """Names of the placeholders the crisis still has to provide."""
        names = (p.name for p in self.problems if p.code == "missing_value")
        return tuple(dict.fromkeys(names))


def checklist_items(playbook: Playbook, *, activated_at: datetime) -> list[ChecklistItem]:
    """The playbook's checklist as items due at `activated_at` + offset (stable by due time)."""
    if activated_at.tzinfo is None or activated_at.utcoffset() is None:
        raise ValueError("activated_at must be timezone-aware")
    steps = sorted(playbook.checklist, key=lambda step: step.due_offset_min)
    return [
        ChecklistItem(
            position=position,
            title=step.title,
            role=step.role,
            due_offset_min=step.due_offset_min,
            due_at=activated_at + timedelta(minutes=step.due_offset_min),
            action=step.action,
            playbook_key=playbook.key,
        )
        for position, step in enumerate(steps, start=1)
    ]


def fill_templates(
    playbook: Playbook,
    *,
    values: Mapping[str, object],
    purpose: Purpose | None = None,
    audience: Audience | None = None,
    html: bool = False,
) -> FillResult:
    """Render the matching templates with the crisis' values (placeholder defaults apply).

    Values are keyed by placeholder name: communes as a list of names, times as aware
    datetimes, instructions as a list of sentences, text, phone numbers and URLs as strings.
    """
    messages: list[FilledMessage] = []
    problems: dict[tuple[str, str], TemplateProblem] = {}
    for template in playbook.templates_for(purpose=purpose, audience=audience):
        rendered: dict[str, str] = {}
        for field, source in (("title", template.title), ("body", template.body)):
            try:
                rendered[field] = render_text(
                    source, placeholders=playbook.placeholders, values=values, html=html
                )
            except TemplateRenderError as error:
                for problem in error.problems:
                    problems.setdefault((problem.code, problem.name or problem.message), problem)
        if len(rendered) == 2:
            messages.append(
                FilledMessage(
                    template_key=template.key,
                    purpose=template.purpose,
                    audience=template.audience,
                    channel=template.channel,
                    title=rendered["title"],
                    body=rendered["body"],
                )
            )
    if problems:
        return FillResult(messages=(), problems=tuple(problems.values()))
    return FillResult(messages=tuple(messages), problems=())


def sample_values(playbook: Playbook, *, longest: bool = False) -> dict[str, object]:
    """The sample values of every placeholder (for previews)."""
    return {
        name: placeholder.longest if longest else placeholder.sample
        for name, placeholder in playbook.placeholders.items()
    }

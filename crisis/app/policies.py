"""Settings turned into the domain's policies, in one place: routes, pages, ticks and the demo
all ask here, so a setting means the same thing everywhere."""

from __future__ import annotations

from datetime import timedelta

from crisis.app.library import playbook_library
from crisis.app.settings import Settings
from crisis.app.signing import confirmation_secret
from crisis.bulletin.workflow import ChannelPolicy
from crisis.cell.clocks import ClockRules
from crisis.cell.lifecycle import LifecycleRules
from crisis.cip.requests import RequestRules
from crisis.cip.rules import CipRules
from exercises.launching import LaunchRules


def lifecycle_rules(settings: Settings) -> LifecycleRules:
    return LifecycleRules(
        clock=ClockRules(
            deadline_minutes=settings.clock_deadline_minutes,
            thresholds=tuple(settings.clock_alert_thresholds),
        ),
        cod_max_age=timedelta(hours=settings.cod_max_age_hours),
        min_staffing=dict(settings.cell_min_staffing),
        page_escalation=timedelta(minutes=settings.page_escalation_minutes),
        base_url=settings.base_url,
    )


def cip_rules(settings: Settings) -> CipRules:
    return CipRules(
        clock=ClockRules(
            deadline_minutes=settings.clock_deadline_minutes,
            thresholds=tuple(settings.clock_alert_thresholds),
        ),
        min_staffing=dict(settings.cip_min_staffing),
        page_escalation=timedelta(minutes=settings.page_escalation_minutes),
        base_url=settings.base_url,
    )


def cip_request_rules(settings: Settings) -> RequestRules:
    return RequestRules(deadline=timedelta(hours=settings.cip_request_deadline_hours))


def channel_policy(settings: Settings) -> ChannelPolicy:
    return ChannelPolicy(
        available=tuple(settings.bulletin_channels),
        public_accounts=dict(settings.public_accounts),
        exercise_public_accounts=dict(settings.exercise_public_accounts),
        base_url=settings.base_url,
    )


def reply_window(settings: Settings) -> timedelta:
    return timedelta(hours=settings.reply_window_hours)


def to_call_after(settings: Settings) -> timedelta:
    return timedelta(minutes=settings.to_call_after_minutes)


def alert_late_after(settings: Settings) -> timedelta:
    return timedelta(seconds=settings.clock_alert_late_seconds)


def launch_rules(settings: Settings) -> LaunchRules:
    return LaunchRules(
        lifecycle=lifecycle_rules(settings),
        playbooks=playbook_library(),
        late_after=timedelta(seconds=settings.exercise_late_seconds),
        missed_after=timedelta(minutes=settings.exercise_missed_after_minutes),
        on_call_duration=timedelta(minutes=settings.exercise_on_call_minutes),
        reachability_window=timedelta(days=settings.exercise_reachability_window_days),
        reachability_duration=timedelta(hours=settings.exercise_reachability_answer_hours),
        feedback_secret=confirmation_secret(settings),
    )

"""One delivery through its channel: the message it carries, and what came of the send."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from channels.base import Channel, Message, Recipient
from channels.errors import ChannelError, PermanentChannelError, TransientChannelError
from crisis.dispatch import store
from crisis.dispatch.isolation import Decision, Lane
from crisis.dispatch.outbox import DeliveryStatus

__all__ = ["EXERCISE_MARK", "Job", "Outcome", "attempt", "message", "settle"]

log = logging.getLogger("tocsin.dispatcher")
EXERCISE_MARK = "EXERCICE EXERCICE EXERCICE"


@dataclass(frozen=True, slots=True)
class Job:
    item: store.Claimed
    decision: Decision
    exercise: bool  # the crisis' mode, read in the claim's transaction


@dataclass(frozen=True, slots=True)
class Outcome:
    item: store.Claimed
    status: DeliveryStatus
    error: str | None = None
    provider_id: str | None = None
    retry_after: float | None = None
    isolation: bool = False


def settle(job: Job) -> Outcome:
    """The outcome of a delivery no channel carries: refused, or published by Tocsin."""
    item, decision = job.item, job.decision
    if decision.lane == Lane.INTERNAL:
        return Outcome(item, DeliveryStatus.SENT, provider_id="public_page")
    if decision.isolation:
        log.warning(
            "isolation refusal: delivery %d of crisis %s (%s, %s)",
            item.id,
            item.crisis_id,
            item.audience,
            item.channel,
        )
    reason = decision.reason or "Envoi refusé : aucun canal ne peut porter ce message."
    return Outcome(item, DeliveryStatus.FAILED, reason, isolation=decision.isolation)


async def attempt(
    job: Job,
    channel: Channel,
    rendered: store.Rendered,
    personalise: Callable[[str, int], str] | None,
) -> Outcome:
    """Send the delivery; every error becomes data (a status and its French reason)."""
    item, kind = job.item, job.decision.kind
    assert kind is not None
    try:
        recipient = Recipient(kind=kind, address=item.address, display_name=item.recipient_name)
        receipt = await channel.send(message(job, rendered, personalise), recipient)
    except TransientChannelError as error:
        return Outcome(item, DeliveryStatus.RETRYING, error.message, retry_after=error.retry_after)
    except PermanentChannelError as error:
        return Outcome(item, DeliveryStatus.FAILED, error.message)
    except ChannelError as error:
        return Outcome(item, DeliveryStatus.RETRYING, error.message)
    except Exception as error:  # the last resort: an adapter bug must not lose the row
        log.exception("channel %s raised an unmapped error", kind.value)
        reason = f"Erreur inattendue du canal ({type(error).__name__})."
        return Outcome(item, DeliveryStatus.RETRYING, reason)
    refusal = receipt.refused.get(recipient.address)
    if refusal is not None:
        status = DeliveryStatus.RETRYING if refusal.startswith("4") else DeliveryStatus.FAILED
        return Outcome(item, status, f"Destinataire refusé par le fournisseur : {refusal}")
    return Outcome(item, DeliveryStatus.SENT, provider_id=receipt.provider_id)


def message(
    job: Job, rendered: store.Rendered, personalise: Callable[[str, int], str] | None
) -> Message:
    """The message of one delivery: its recipient's own links, and an exercise says so."""
    text, subject = rendered.text, rendered.subject
    html, thread = rendered.html, rendered.thread
    if personalise is not None:
        text = personalise(text, job.item.id)
        html = personalise(html, job.item.id) if html else html
    if job.exercise:  # whatever the renderer did, an exercise says so first
        if not text.lstrip().startswith(EXERCISE_MARK):
            text = f"{EXERCISE_MARK}\n\n{text}"
        if subject and "EXERCICE" not in subject:
            subject = f"EXERCICE — {subject}"
        thread = tuple(
            part if part.startswith(EXERCISE_MARK) else f"{EXERCISE_MARK}\n{part}"
            for part in thread
        )
    return Message(
        text=text,
        subject=subject,
        html=html,
        idempotency_key=job.item.idempotency_key,
        audience=job.item.audience,
        exercise=job.exercise,
        links=(rendered.link,) if rendered.link else (),
        thread=thread,
        cap=rendered.cap,
    )

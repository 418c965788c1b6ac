"""Every table module, imported once so that SQLModel.metadata knows the whole schema."""

from sqlmodel import SQLModel

import contacts.directory
import contacts.geography
import contacts.roster
import crisis.api_tokens
import crisis.app.idempotency
import crisis.app.leadership
import crisis.bulletin.workflow
import crisis.cell.checklist
import crisis.cell.clocks
import crisis.cell.crises
import crisis.cell.paging
import crisis.checkpoints
import crisis.cip.calls
import crisis.cip.debrief
import crisis.cip.faq
import crisis.cip.record
import crisis.cip.requests
import crisis.dispatch.budget
import crisis.dispatch.instances
import crisis.dispatch.outbox
import crisis.dispatch.tallies
import crisis.inbound_updates
import crisis.journal
import crisis.logins
import crisis.pending_imports
import crisis.users
import exercises.feedback
import exercises.inject_play
import exercises.injects
import exercises.programme

metadata = SQLModel.metadata

__all__ = ["contacts", "crisis", "exercises", "metadata"]

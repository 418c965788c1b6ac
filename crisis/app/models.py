"""Every table module, imported once so that SQLModel.metadata knows the whole schema."""

from sqlmodel import SQLModel

import contacts.directory
import contacts.geography
import contacts.roster
import crisis.accounts
import crisis.app.idempotency
import crisis.bulletins
import crisis.checklist
import crisis.clocks
import crisis.crises
import crisis.inbound_updates
import crisis.journal
import crisis.outbox
import crisis.paging

metadata = SQLModel.metadata

__all__ = ["contacts", "crisis", "metadata"]

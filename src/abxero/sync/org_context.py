"""The organisation's context for planning: the supplier contact, the stored or fresh read of
the organisation (``context_reads.py``), its notes, and the contact of each seller."""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy import select

from abxero.domain.context import OrgContext
from abxero.store.db import transaction
from abxero.store.models import Event, XeroConnection
from abxero.sync import context_reads, seller_contacts
from abxero.sync.engine_parts import EngineParts
from abxero.sync.failpoints import reached
from abxero.sync.xero_books import org_context
from abxero.xero.models import OrganisationFacts

CONTACT_NAME = "Amazon Business"


class OrganisationContext(EngineParts):
    """Reads (or recalls) what planning needs to know about the organisation in Xero."""

    def _context(self, connection: XeroConnection) -> OrgContext | None:
        contact = self._xero.ensure_contact(connection.contact_id or None, CONTACT_NAME)
        with transaction(self._factory) as session:
            stored = session.get_one(XeroConnection, self._id)
            stored.contact_id = contact.contact_id
            if contact.archived:
                self._event(
                    session,
                    "error",
                    "contact_archived",
                    f'The supplier contact "{contact.name}" is archived in Xero, so no bill can '
                    "be posted to it.",
                    "Restore the contact in Xero (Contacts → Archived → Restore), then sync again.",
                )
                return None
        context = org_context(self._organisation_facts(), contact.contact_id)
        reached("context_read")
        self._note_context(context)
        return context

    def _organisation_facts(self) -> OrganisationFacts:
        """The stored read of the organisation if it is recent, else a fresh one (kept)."""
        with self._factory() as session:
            facts = context_reads.recall(session, self._id, self._now(), self._context_max_age)
        self._used_stored_read = facts is not None
        if facts is not None:
            return facts
        return self._read_organisation()

    def _fresh_context(self, contact_id: str) -> OrgContext:
        self._used_stored_read = False
        context = org_context(self._read_organisation(), contact_id)
        self._note_context(context)
        return context

    def _read_organisation(self) -> OrganisationFacts:
        facts = self._xero.organisation_facts()
        with transaction(self._factory) as session:
            context_reads.remember(session, self._id, facts, self._now())
        return facts

    def _note_context(self, context: OrgContext) -> None:
        """Each note about the context (e.g. a time-zone fallback) once, as a warning."""
        with transaction(self._factory) as session:
            known = set(
                session.scalars(
                    select(Event.message).where(
                        Event.xero_connection_id == self._id, Event.code == "context_note"
                    )
                )
            )
            for note in context.notes:
                if note not in known:
                    self._event(
                        session,
                        "warning",
                        "context_note",
                        note,
                        "Check the organisation's time zone in Xero (Settings → Organisation "
                        "details); abxero uses it from the next sync.",
                    )

    def _with_seller_contacts(self, context: OrgContext) -> OrgContext:
        """``context`` with the contact of every seller a waiting transaction posts to; a
        missing one is found by name or created, and stored by ContactID at once. Sellers
        whose contact is archived in Xero are named, so their purchases are held, not sent
        to be refused."""
        with self._factory() as session:
            wanted = seller_contacts.sellers_waiting(session, self._id)
            known = seller_contacts.known(session, self._id)
        for key, name in sorted(wanted.items()):
            if key in known:
                continue
            contact = self._xero.ensure_contact(None, name, seller_contacts.key_suffix(key))
            with transaction(self._factory) as session:
                seller_contacts.remember(session, self._id, key, name, contact.contact_id)
            known[key] = contact.contact_id
        archived = self._xero.archived_contacts(list(known.values())) if known else set()
        return replace(
            context,
            seller_contacts=known,
            archived_seller_contacts=frozenset(k for k, i in known.items() if i in archived),
        )

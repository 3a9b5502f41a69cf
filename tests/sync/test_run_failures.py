"""How a failed run is described, and which failures may blame the document at hand."""

from __future__ import annotations

from sqlalchemy.exc import OperationalError

from abxero.domain.context import ContextError
from abxero.sync.failpoints import Armed
from abxero.sync.run_failures import (
    RETRY_NOTE,
    blames_its_subject,
    cause_of,
    remedy_for_failure,
)


def test_the_cause_is_the_type_and_the_message_on_one_line() -> None:
    assert cause_of(ValueError("bad\n  amount")) == "ValueError: bad amount"
    assert cause_of(KeyError()) == "KeyError"


def test_an_unavailable_database_or_network_never_blames_a_document() -> None:
    assert not blames_its_subject(OperationalError("commit", {}, Exception("connection lost")))
    assert not blames_its_subject(ConnectionResetError())
    assert not blames_its_subject(TimeoutError())
    assert blames_its_subject(ValueError("unexpected shape"))
    assert blames_its_subject(KeyError("LineItems"))


def test_unreadable_organisation_settings_name_where_to_look() -> None:
    remedy = remedy_for_failure(ContextError("date 'soon' is not a Xero date"))
    assert "lock dates" in remedy
    assert remedy.endswith(RETRY_NOTE)
    assert remedy_for_failure(RuntimeError()) == RETRY_NOTE


def test_failpoint_specifications() -> None:
    assert Armed.parse("batch_recorded:2") == Armed("batch_recorded", "", "2", "kill")
    armed = Armed.parse("source_planning@tx-1:*:raise")
    assert armed == Armed("source_planning", "tx-1", "*", "raise")
    assert armed.fires(1)
    assert armed.fires(7)
    assert not Armed.parse("page_stored").fires(2)

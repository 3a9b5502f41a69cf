"""Property-based fuzzing of the three parsers that read outside data: Amazon records (through
the planner), and Xero's batch answers. Nothing crashes; bad input ends typed and explained."""

from __future__ import annotations

import copy
from typing import Any

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from abxero.domain import jsontext
from abxero.domain.plan import Held, Planned, Skipped
from abxero.domain.planner import plan_record
from abxero.domain.transactions import Quarantined, Transaction, parse_transaction
from abxero.xero import XeroAccounting, XeroError
from abxero.xero.transport import AccountingTransport
from tests.domain.domain_strategies import REGIONS, charge_records, json_values

FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
ENDPOINTS = ("Invoices", "CreditNotes", "BankTransactions", "Payments")


@FUZZ
@given(json_values)
def test_any_json_value_parses_to_a_transaction_or_a_reasoned_quarantine(value: Any) -> None:
    parsed = parse_transaction(value)
    assert isinstance(parsed, Transaction | Quarantined)
    if isinstance(parsed, Quarantined):
        assert parsed.reason


def _swap_types(value: Any, data: st.DataObject) -> Any:
    """``value`` with some strings turned into numbers and some numbers into strings."""
    if isinstance(value, dict):
        return {key: _swap_types(item, data) for key, item in value.items()}
    if isinstance(value, list):
        return [_swap_types(item, data) for item in value]
    if isinstance(value, str) and data.draw(st.integers(0, 9)) == 0:
        return data.draw(st.floats(allow_nan=False) | st.integers())
    return value


@FUZZ
@given(charge_records(), st.data())
def test_retyped_records_are_planned_exactly_or_quarantined_with_a_reason(
    generated: tuple[Any, dict[str, Any]], data: st.DataObject
) -> None:
    region, record = generated
    retyped = _swap_types(copy.deepcopy(record), data)
    plan = plan_record(retyped, region.mapping, region.context)
    if retyped == record:
        assert isinstance(plan, Planned | Skipped | Held)
    if isinstance(plan, Quarantined):
        assert plan.reason
    if isinstance(plan, Planned):
        assert plan_record(retyped, region.mapping, region.context) == plan  # deterministic


@FUZZ
@given(charge_records())
def test_every_good_record_is_planned_or_explained(generated: tuple[Any, dict[str, Any]]) -> None:
    region, record = generated
    plan = plan_record(record, region.mapping, region.context)
    assert not isinstance(plan, Quarantined), plan
    if isinstance(plan, Planned):
        assert plan.documents


def _xero_answering(body: bytes, status: int) -> XeroAccounting:
    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, content=body, headers={"content-type": "application/json"})

    http = httpx.Client(transport=httpx.MockTransport(answer))
    transport = AccountingTransport(http, "https://xero.test/api.xro/2.0", "t", lambda: "token")
    return XeroAccounting(transport)


elements = st.dictionaries(
    st.sampled_from(
        ["InvoiceID", "StatusAttributeString", "ValidationErrors", "HasErrors", "Warnings"]
    ),
    json_values,
    max_size=5,
)


@FUZZ
@given(
    st.sampled_from(ENDPOINTS),
    st.one_of(json_values, st.lists(elements | json_values, max_size=3)),
    st.sampled_from([200, 200, 400, 500]),
    st.booleans(),
)
def test_any_batch_answer_is_a_typed_result_or_a_typed_error(
    endpoint: str, returned: Any, status: int, wrapped: bool
) -> None:
    answer = {endpoint: returned} if wrapped else returned
    api = _xero_answering(jsontext.dumps(_floatless(answer)).encode(), status)
    body = jsontext.dumps({endpoint: [{"Reference": "x"}]}).encode()
    try:
        result = api.send_stored_batch(endpoint, body, "key")
    except XeroError:
        return
    assert len(result.elements) == 1
    element = result.elements[0]
    assert element.ok or element.status == "ERROR" or element.errors or not element.xero_id


def _floatless(value: Any) -> Any:
    if isinstance(value, float):
        return int(value) if value.is_integer() else str(value)
    if isinstance(value, dict):
        return {key: _floatless(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_floatless(item) for item in value]
    return value


def test_the_region_fixtures_cover_both_stores() -> None:
    assert {region.name for region in REGIONS} >= {"US", "UK"}

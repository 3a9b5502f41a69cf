"""A naive poster for comparison: the same documents, one request per document.

It reads the organisation the way the engine does (five reads and the contact), then PUTs each
document on its own, bills and credit notes first, payments and allocations after, writing the
Xero ids it gets back into the documents that depend on them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import httpx

from abxero.domain import jsontext
from abxero.domain.plan import Endpoint, resolve_links
from abxero.store.models import OutboxDocument
from abxero.sync.batches import FIRST_PHASE, ID_FIELDS, SECOND_PHASE, stored_links

CONTEXT_READS = ("Organisation", "Accounts", "TaxRates", "Currencies", "TrackingCategories")


@dataclass(frozen=True)
class NaiveRun:
    requests: int
    posted: int
    failed: int


def post_one_by_one(
    xero_url: str, tenant_key: str, documents: Sequence[OutboxDocument]
) -> NaiveRun:
    """Post ``documents`` to the simulator at ``xero_url`` one request each."""
    grant = httpx.post(f"{xero_url}/_sim/token", json={"tenants": [tenant_key]}, timeout=30).json()
    headers = {
        "Authorization": f"Bearer {grant['access_token']}",
        "xero-tenant-id": grant["tenants"][tenant_key],
        "Accept": "application/json",
    }
    with httpx.Client(base_url=f"{xero_url}/api.xro/2.0/", headers=headers, timeout=30) as api:
        requests = _read_context(api)
        ids: dict[str, str] = {}
        posted = failed = 0
        for phase in (FIRST_PHASE, SECOND_PHASE):
            for document in _in_phase(documents, phase):
                ok = _put_alone(api, document, ids)
                requests += 1
                posted, failed = posted + ok, failed + (not ok)
    return NaiveRun(requests, posted, failed)


def _read_context(api: httpx.Client) -> int:
    for name in CONTEXT_READS:
        api.get(name).raise_for_status()
    api.get("Contacts", params={"where": 'Name=="Amazon Business"'}).raise_for_status()
    return len(CONTEXT_READS) + 1


def _in_phase(
    documents: Sequence[OutboxDocument], phase: tuple[Endpoint, ...]
) -> list[OutboxDocument]:
    names = {endpoint.value for endpoint in phase}
    return [document for document in documents if document.endpoint in names]


def _put_alone(api: httpx.Client, document: OutboxDocument, ids: dict[str, str]) -> bool:
    if not all(key in ids for key in document.depends_on):
        return False
    endpoint = Endpoint(document.endpoint)
    payload: dict[str, Any] = resolve_links(
        jsontext.loads(document.payload), stored_links(document), ids
    )
    path = endpoint.value
    if endpoint is Endpoint.ALLOCATIONS:
        path = f"CreditNotes/{payload.pop('CreditNote')['CreditNoteID']}/Allocations"
    response = api.put(
        path,
        params={"summarizeErrors": "false"},
        content=jsontext.dumps({endpoint.value: [payload]}),
        headers={"Content-Type": "application/json"},
    )
    if response.status_code != 200:
        return False
    element = jsontext.loads(response.content)[endpoint.value][0]
    xero_id = element.get(ID_FIELDS[endpoint])
    if not xero_id or element.get("ValidationErrors"):
        return False
    ids[document.doc_key] = str(xero_id)
    return True

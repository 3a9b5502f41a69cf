"""A strict, stateful simulator of Xero's identity service and Accounting API (ASGI).

Build it with :func:`create_app`; serve it with :func:`abxero.web.serving.served` or any
ASGI server. The future ``abxero simulators`` command constructs it as
``create_app(seed=N)`` and serves it on the chosen loopback port; point abxero's Xero login,
identity and API base URLs all at the one printed URL.

Knobs of ``create_app(seed=1, clock=None, *, admin=True, limits=LimitSettings(),
idempotency_window=6 min, clients=DEFAULT_CLIENTS, user=DEFAULT_USER, issuer=None,
spec_path=None, validate_spec=True,
organisation_copies=1, extra_timezones=(), accept_bank_tax_overrides=False,
rollback_failed_batches=False)``: ``seed`` fixes every GUID (tenant ids are
``stable_guid(seed, "tenant", "us"|"uk")``, see ``tenant_id_for``); ``clock`` is a
:class:`~abxero_sim.clock.Clock` (use ``ManualClock`` to move token expiry, grace windows,
rate windows and idempotency expiry); ``limits`` sets 5 concurrent / 60 per minute / 5,000 per day
per organisation and 10,000 per minute app-wide; ``issuer`` fixes the OIDC issuer (default: the
request's base URL); ``spec_path`` points at ``xero_accounting.yaml`` (default: the specs folder of
:mod:`abxero_sim.specs`; a missing file raises ``SpecsMissing``, ``validate_spec=False`` turns
validation off);
``organisation_copies`` seeds the two demo organisations that many times (copy ``n`` > 1 keyed
``us{n}``/``uk{n}``, named "Demo Company (US) {n}"), for scale tests and benchmarks;
``extra_timezones`` adds one organisation per Xero zone name (SAWESTERNSTANDARDTIME → key
``us-sawestern``, WESTPACIFICSTANDARDTIME → ``uk-westpacific``, EEUROPESTANDARDTIME →
``uk-eeurope``), leaving the demo pair unchanged. ``accept_bank_tax_overrides`` and
``rollback_failed_batches`` are the :class:`~abxero_sim.xero.runtime.Behaviour` knobs
(defaults: as Xero behaves).

Like Xero, the simulator ignores request properties the spec marks ``readOnly`` and query
parameters a GET operation does not list (``query.py``); ``unitdp=4`` keeps 4-dp unit prices on
writes and shows them on reads, otherwise unit prices are taken and shown at 2 dp.

Routes, like Xero's but on one host:
``GET/POST /identity/connect/authorize`` (consent page: organisations, Allow / Deny),
``POST /connect/token``, ``POST /connect/revocation``, ``GET /.well-known/openid-configuration``,
``GET /.well-known/openid-configuration/jwks``, ``GET /connections``, ``DELETE /connections/{id}``,
and ``/api.xro/2.0/...`` (Organisation, Organisation/Actions, Accounts, TaxRates,
TrackingCategories, Currencies, Contacts, Invoices, CreditNotes (+ Allocations, and their
DELETE), Payments,
BankTransactions, and ``{Invoices|CreditNotes|BankTransactions}/{id}/Attachments[/{FileName}]``
and ``.../History``).

Test-only admin namespace (mounted only with ``admin=True``; production never mounts it):

* ``POST /_sim/reset`` ``{"seed"?}`` – back to the seeded organisations; forgets tokens,
  stats and faults.
* ``GET /_sim/state`` – every organisation's contacts, documents, payments, allocations and
  trial balance.
* ``GET /_sim/stats`` – requests and statuses per endpoint, rate-limit refusals, replays,
  ``spec_rejections`` / ``spec_validation_failures`` (requests the OpenAPI spec refused),
  ``ignored_read_only`` (read-only properties dropped from requests) and ``recent_requests``
  (the latest 2,000 Accounting API requests: endpoint, path, query parameters, status).
* ``POST /_sim/clock`` ``{"advance_seconds": n}`` or ``{"now": iso}`` – move the simulator's
  time forward: token expiry and grace, rate windows, the idempotency window, document dates.
* ``POST /_sim/behaviour`` ``{"accept_bank_tax_overrides"?, "rollback_failed_batches"?}`` –
  the behaviour knobs (reset restores the ``create_app`` values).
* ``POST /_sim/faults`` – knobs ``rate_limit_storm`` (n next calls get 429, with ``storm_problem``
  and ``storm_retry_after``), ``server_errors`` (+ ``server_error_status``), ``slow_responses``
  (+ ``slow_seconds``), ``lose_responses`` (the write happens, the reply is a 502, or a hang with
  ``lose_mode="hang"``), ``disconnected_tenants``; one-shot ``revoke_tokens``,
  ``expire_access_tokens``; and ``limits`` (a partial :class:`LimitSettings`).
* ``POST /_sim/token`` ``{"client_id"?, "scope"?, "tenants"?: ["us", "uk" or ids], "nonce"?}`` –
  a token set without the browser: ``access_token``, ``refresh_token``, ``id_token``,
  ``tenant_ids``, ``tenants`` (key → id) and ``connections`` (tenant id → connection id).
* ``POST /_sim/webhooks`` ``{"url"?, "key"?, "auto"?, "flush"?, "intent_to_receive"?}`` –
  signed webhook delivery of CONTACT and INVOICE events (see ``webhooks.py``).
* ``POST /_sim/orgs/{key-or-tenant-id}`` ``{"organisation": {...}, "accounts": {code: {...}},
  "contacts": {id: {...}}, "currencies": [...]}`` – edit seeded data (lock dates, archiving).
* ``POST /_sim/orgs/{key-or-tenant-id}/documents/{id}`` ``{"Status"?: "DELETED"|"VOIDED",
  "add_to_first_line"?: "5.00"}`` – what a user does in Xero's web app behind abxero's back:
  delete or void a document, edit an amount (refused on a paid document, as Xero does).
* ``POST /_sim/orgs/{key-or-tenant-id}/reconcile`` ``{"payments": [ids], "bank_transactions":
  [ids]}`` – mark them reconciled (``IsReconciled``); Xero then refuses to delete them
  (``removals.py``, which also serves ``DELETE CreditNotes/{id}/Allocations/{AllocationID}``).
"""

from __future__ import annotations

from abxero_sim.xero.app import DEFAULT_CLIENTS, DEFAULT_USER, create_app
from abxero_sim.xero.limits import LimitSettings
from abxero_sim.xero.seed import tenant_id_for
from abxero_sim.xero.tokens import SimClient, SimUser

__all__ = [
    "DEFAULT_CLIENTS",
    "DEFAULT_USER",
    "LimitSettings",
    "SimClient",
    "SimUser",
    "create_app",
    "tenant_id_for",
]

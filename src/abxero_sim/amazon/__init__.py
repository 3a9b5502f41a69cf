"""A strict, stateful simulator of Amazon Business for tests and the demo.

``create_app(seed, admin=False, clock=None, region=None, ...)`` returns one ASGI app that plays
every Amazon host at once (a caller points the store, LWA and API base URLs at it):

* ``GET /b2b/abws/oauth?applicationId&state&redirect_uri`` - the store consent page. The
  simulated admin picks a business and clicks Allow or Deny; the browser goes back to
  ``redirect_uri`` with ``code`` and ``state`` or ``error=access_denied`` and ``state``. An
  unknown ``applicationId`` or unregistered ``redirect_uri`` gets an error page, no redirect.
* ``POST /auth/o2/token`` - Login with Amazon: ``authorization_code`` and ``refresh_token``
  grants (form-encoded, client credentials in the body or HTTP Basic); access tokens last an
  hour; ``invalid_grant`` for used, expired or unknown codes, a different ``redirect_uri`` and
  revoked consent; ``invalid_client`` for wrong client credentials.
* Reconciliation API 2021-01-08 (``getTransactions``, ``getInvoiceDetailsByOrderLineItems``,
  ``getBatchInvoicePaymentDetails``) and Document API 2021-09-30 (``createReport``,
  ``getReports``, ``getReport``, ``cancelReport``, ``getReportDocument`` and the pre-signed
  ``/_documents/`` download). They need ``x-amz-access-token`` (403 ErrorList otherwise),
  answer with ``x-amzn-RequestId`` and ``x-amzn-RateLimit-Limit``, and throttle per business
  and operation with Amazon's rate plans (429 ErrorList). The official static-sandbox requests
  get the official sample responses, read from the published models at run time.

Data: four seeded businesses (``us-acme``, ``us-bluebird``, ``uk-harbour``, ``uk-thistle``,
see :mod:`.businesses`), each with an endless reproducible order stream that starts
``history_days`` before the day the state was created (see :mod:`.generator`).

Record shapes (generator knobs, :class:`Shapes`, all off by default): the shapes real accounts
send beyond the plain ones, each given to a seeded fraction of records - ``refund_positive``
(refunds with positive amounts), ``vat_inclusive`` (UK principal includes VAT),
``authorised_amount`` (amount is an authorisation, not the line sum), ``split_shared_lines``
(two instruments, each record with every line and its own share of the amount),
``null_order_info``, ``associated_without_id``, ``empty_zero_money`` (``{"currencyCode": "",
"amount": "0"}``), ``percent_tax_rate`` (``"20"``/``"20%"``), ``offset_timestamps`` and
``no_line_items``. Sources and arithmetic in :mod:`.shapes`. Set them with
``create_app(shapes=Shapes(...))``, ``FeedGenerator(..., shapes=...)`` or ``/_sim/shapes``;
``Shapes.all_on()`` is a mix in which 90 days of one business show every shape.

Application registered by default (:class:`AppRegistration`): applicationId
``amzn1.sp.solution.7a3e5c1d-0b9f-4c2e-9d41-5a6b7c8d9e0f``, client_id
``amzn1.application-oa2-client.abxerosimulator0000000001``, client_secret
``abxero-simulator-client-secret``, redirect URIs ``http://127.0.0.1/amazon/callback`` and
``http://localhost/amazon/callback`` (loopback URIs match on any port).

Test-only admin routes, mounted only with ``admin=True`` (JSON in, JSON out):

* ``GET /_sim/state`` - seed, clock, application, businesses, consents, counts, faults.
* ``POST /_sim/reset`` ``{"seed"?: int}`` - forget consents, tokens, reports, faults, added
  records; regenerate the data. Answers like ``/_sim/state``.
* ``POST /_sim/faults`` ``{"clear"?: bool, "queue"?: [str], "slow_seconds"?: float,
  "malformed_every"?: int, "malformed_kinds"?: [str], "rate_limits"?: bool,
  "page_size"?: int, "report_seconds"?: float, "report_outcomes"?: [str],
  "token_queue"?: [str], "page_token_seconds"?: float, "page_token_form"?: str,
  "rate_limit_header"?: bool, "document_packaging"?: str, "document_member_name"?: str,
  "strict_invoice_lookup"?: bool, "payment_details"?: bool, "payment_terms_days"?: int,
  "pbi_invoice_numbers"?: bool, "rotate_refresh_tokens"?: bool}`` - see :class:`Faults`
  (page tokens that expire on the sim clock or are refused in one of the two documented forms,
  429s without ``x-amzn-RateLimit-Limit``, gzip/zip downloads with odd member names, 400 for
  unknown order lines and invoices, due dates, NA Pay-by-Invoice records without
  ``invoiceNumber``, refresh tokens replaced on each refresh; the
  sources are cited where each is played). Queue entries ``"429"``, ``"500"``, ``"503"``,
  ``"504"``, ``"400"``, ``"404"``, ``"413"``, ``"415"``, ``"slow"``, ``"drop"``,
  ``"expired"`` are used one per API request;
  malformed kinds ``wrong_type``, ``missing_field``, ``bad_total``, ``unknown_currency``
  break every ``malformed_every``-th order's records. Answers the faults.
* ``POST /_sim/shapes`` ``{"clear"?: bool, "<knob>"?: fraction 0..1, ...}`` - set record
  shapes (see above); unknown knobs or values outside 0..1 are a 400. Answers the shapes.
  ``/_sim/reset`` restores the shapes the app was created with.
* ``POST /_sim/token`` ``{"business_id"}`` - consent as if Allow was clicked; answers
  ``{"access_token", "refresh_token", "token_type", "expires_in", "business_id"}``.
* ``POST /_sim/code`` ``{"business_id", "redirect_uri"?}`` - ``{"code", "redirect_uri"}`` to
  exchange at the token endpoint without the browser.
* ``POST /_sim/transactions`` ``{"business_id", "transactions": [raw records]}`` - add records
  (served after the generated ones, filtered by their ``feedDate``); answers ``{"added",
  "total"}``. ``GET /_sim/transactions?business_id&count`` lists generated records.
* ``POST /_sim/clock`` ``{"advance_seconds": n}`` or ``{"now": iso}`` - move the simulator's
  clock forward (feeds arrive, tokens and URLs expire, reports progress).
* ``POST /_sim/revoke`` ``{"business_id"}`` - revoke the business's consents: ``{"revoked"}``.
* ``POST /_sim/expire-tokens`` - expire every access token issued so far.
"""

from abxero_sim.amazon.app import create_app
from abxero_sim.amazon.businesses import DEFAULT_BUSINESSES, Business, Region
from abxero_sim.amazon.shapes import Shapes
from abxero_sim.amazon.state import (
    DEFAULT_APPLICATION_ID,
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    DEFAULT_REDIRECT_URIS,
    AppRegistration,
    Faults,
    SimulatorState,
)

__all__ = [
    "DEFAULT_APPLICATION_ID",
    "DEFAULT_BUSINESSES",
    "DEFAULT_CLIENT_ID",
    "DEFAULT_CLIENT_SECRET",
    "DEFAULT_REDIRECT_URIS",
    "AppRegistration",
    "Business",
    "Faults",
    "Region",
    "Shapes",
    "SimulatorState",
    "create_app",
]

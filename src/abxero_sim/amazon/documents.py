"""The simulated Document API 2021-09-30: invoice PDFs through createReport → getReport →
getReportDocument → a pre-signed download URL valid for five minutes.

Which documents exist follows Amazon: in the UK every non-digital order's invoice and credit
memo, in the US only Pay by Invoice ones. A request for anything else ends CANCELLED (no
data). ``Faults.report_outcomes`` forces the next reports to end FATAL or CANCELLED.
"""

from __future__ import annotations

import gzip
import hashlib
import hmac
import io
import zipfile
from datetime import UTC, datetime, timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response

from abxero_sim.amazon.businesses import Region
from abxero_sim.amazon.generator import FeedGenerator
from abxero_sim.amazon.orders import Document, GeneratedOrder
from abxero_sim.amazon.pdf import invoice_lines, render_pdf
from abxero_sim.amazon.state import Report, SimulatorState
from abxero_sim.amazon.values import iso
from abxero_sim.amazon.wire import ApiContext, error_response, json_body

REPORT_TYPE = "GET_AB_INVOICE_PDF"
URL_SECONDS = 300
DOCUMENT_TYPES = {"Invoice": "STANDARD", "Credits": "CREDIT_MEMO"}


def _invalid(details: str) -> JSONResponse:
    return error_response(400, "400", "Invalid input", details)


async def create_report(ctx: ApiContext) -> Response:
    spec = await json_body(ctx.request)
    if not isinstance(spec, dict) or spec.get("reportType") != REPORT_TYPE:
        return _invalid("Invalid input")
    markets = spec.get("marketplaceIds")
    if not isinstance(markets, list) or not 1 <= len(markets) <= 25:
        return _invalid("marketplaceIds must list 1 to 25 marketplace IDs")
    if ctx.business.marketplace_id not in markets:
        return _invalid("marketplaceIds does not include the marketplace of this account")
    options = spec.get("reportOptions")
    if not isinstance(options, dict) or not all(isinstance(v, str) for v in options.values()):
        return _invalid("reportOptions are required for GET_AB_INVOICE_PDF")
    document = _find_document(ctx, options)
    if isinstance(document, Response):
        return document
    report = _new_report(ctx, options, markets, document)
    return JSONResponse({"reportId": report.report_id}, status_code=202)


def _find_document(ctx: ApiContext, options: dict[str, str]) -> Document | Response | None:
    if "invoiceId" in options:
        kind = DOCUMENT_TYPES.get(options.get("documentType", "Invoice"))
        if kind is None:
            return _invalid("documentType must be Invoice or Credits")
        doc = find_invoice(ctx.generator, options["invoiceId"])
        return doc if doc is not None and doc.kind == kind else None
    keys = ("orderId", "orderLineItemId", "shipmentId")
    if not all(key in options for key in keys):
        return _invalid("reportOptions need invoiceId, or orderId, orderLineItemId and shipmentId")
    found: GeneratedOrder | None = ctx.generator.order_for_id(options["orderId"])
    docs = (
        found.documents_for_line(options["orderLineItemId"], options["shipmentId"]) if found else []
    )
    standard = [doc for doc in docs if doc.kind == "STANDARD"]
    return standard[0] if standard else None


def find_invoice(generator: FeedGenerator, number: str) -> Document | None:
    """An invoice or credit memo by number, or a UK consolidated invoice
    (``GBC<yymm>-<order prefix>``, as getInvoiceDetailsByOrderLineItems names them): Amazon
    offers the PDF of purchase- or period-consolidated invoices in the EU since December 2024
    (amazon-business-api.md §5.3, CL-DEC24)."""
    order = generator.order_for_invoice(number)
    if order is not None:
        return order.document(number)
    return _consolidated(generator, number)


def _consolidated(generator: FeedGenerator, number: str) -> Document | None:
    prefix = f"-{generator.business.order_prefix}"
    if not number.startswith("GBC") or not number.endswith(prefix):
        return None
    try:
        month = datetime.strptime(number[3:7], "%y%m").replace(tzinfo=UTC)
    except ValueError:
        return None
    after = (month + timedelta(days=32)).replace(day=1)
    members = [
        doc
        for index in generator.index_range(month, after)
        for doc in generator.order(index).documents
        if doc.pay_by_invoice and doc.kind == "STANDARD" and month <= doc.date < after
    ]
    if not members:
        return None
    return Document(number, "STANDARD", members[-1].date, members[0].record, True, False)


def _available(ctx: ApiContext, doc: Document | None) -> bool:
    if doc is None or doc.digital or doc.date > ctx.state.now():
        return False
    return ctx.business.region is Region.UK or doc.pay_by_invoice


def _new_report(
    ctx: ApiContext, options: dict[str, str], markets: list[str], doc: Document | None
) -> Report:
    state = ctx.state
    forced = state.faults.report_outcomes.pop(0) if state.faults.report_outcomes else ""
    outcome = forced or ("DONE" if _available(ctx, doc) else "CANCELLED")
    report = Report(
        report_id=f"{len(state.reports) + 50001}",
        business_id=ctx.business.business_id,
        created=state.now(),
        options=dict(options),
        marketplace_ids=[str(m) for m in markets],
        outcome=outcome,
        invoice_number=doc.number if doc else "",
    )
    state.reports[report.report_id] = report
    return report


def report_status(state: SimulatorState, report: Report) -> str:
    if report.cancelled:
        return "CANCELLED"
    age = (state.now() - report.created).total_seconds()
    if age < state.faults.report_seconds * 0.4:
        return "IN_QUEUE"
    if age < state.faults.report_seconds:
        return "IN_PROGRESS"
    return report.outcome


def _report_json(state: SimulatorState, report: Report) -> dict[str, Any]:
    status = report_status(state, report)
    body: dict[str, Any] = {
        "reportId": report.report_id,
        "reportType": REPORT_TYPE,
        "createdTime": iso(report.created),
        "processingStatus": status,
        "marketplaceIds": report.marketplace_ids,
    }
    if status != "IN_QUEUE" and not report.cancelled:
        body["processingStartTime"] = iso(
            report.created + timedelta(seconds=state.faults.report_seconds * 0.4)
        )
    if status in ("DONE", "FATAL", "CANCELLED") and not report.cancelled:
        body["processingEndTime"] = iso(
            report.created + timedelta(seconds=state.faults.report_seconds)
        )
    if status == "DONE":
        body["reportDocumentId"] = report.document_id
    return body


def _own_report(ctx: ApiContext) -> Report | Response:
    report = ctx.state.reports.get(ctx.request.path_params["reportId"])
    if report is None or report.business_id != ctx.business.business_id:
        return error_response(404, "404", "Not found", "No report with this reportId")
    return report


async def get_report(ctx: ApiContext) -> Response:
    report = _own_report(ctx)
    if isinstance(report, Response):
        return report
    return JSONResponse(_report_json(ctx.state, report))


async def get_reports(ctx: ApiContext) -> Response:
    """This business's reports, newest first, filtered like Amazon's getReports."""
    params = ctx.request.query_params
    types = set(filter(None, params.get("reportTypes", "").split(",")))
    statuses = set(filter(None, params.get("processingStatuses", "").split(",")))
    try:
        size = int(params.get("pageSize", "10"))
    except ValueError:
        size = 0
    if not 1 <= size <= 100 or (types and types != {REPORT_TYPE} and REPORT_TYPE not in types):
        return _invalid("Invalid input")
    found = [
        _report_json(ctx.state, report)
        for report in reversed(ctx.state.reports.values())
        if report.business_id == ctx.business.business_id
    ]
    found = [r for r in found if not statuses or r["processingStatus"] in statuses]
    return JSONResponse({"reports": found[:size]})


async def cancel_report(ctx: ApiContext) -> Response:
    report = _own_report(ctx)
    if isinstance(report, Response):
        return report
    if report_status(ctx.state, report) != "IN_QUEUE":
        return _invalid("Only reports IN_QUEUE can be cancelled")
    report.cancelled = True
    return Response(status_code=200)


async def get_report_document(ctx: ApiContext) -> Response:
    wanted = ctx.request.path_params["reportDocumentId"]
    report = next(
        (
            r
            for r in ctx.state.reports.values()
            if r.document_id == wanted and r.business_id == ctx.business.business_id
        ),
        None,
    )
    if report is None or report_status(ctx.state, report) != "DONE":
        return error_response(404, "404", "Not found", "No document with this reportDocumentId")
    expires = int((ctx.state.now() + timedelta(seconds=URL_SECONDS)).timestamp())
    signature = _sign(ctx.state, wanted, expires)
    base = str(ctx.request.base_url).rstrip("/")
    url = f"{base}/_documents/{wanted}?Expires={expires}&Signature={signature}"
    body = {"reportDocumentId": wanted, "url": url}
    if ctx.state.faults.document_packaging.startswith("gzip"):
        body["compressionAlgorithm"] = "GZIP"
    return JSONResponse(body)


def _sign(state: SimulatorState, document_id: str, expires: int) -> str:
    key = f"documents/{state.seed}".encode()
    return hmac.new(key, f"{document_id}:{expires}".encode(), hashlib.sha256).hexdigest()[:32]


async def download_document(request: Request) -> Response:
    """The pre-signed URL: no Amazon headers, only a valid signature before expiry."""
    state: SimulatorState = request.app.state.sim
    document_id = request.path_params["documentId"]
    try:
        expires = int(request.query_params.get("Expires", ""))
    except ValueError:
        expires = 0
    signature = request.query_params.get("Signature", "")
    if not hmac.compare_digest(signature, _sign(state, document_id, expires)):
        return _denied(
            "The request signature we calculated does not match the signature you provided."
        )
    if state.now().timestamp() > expires:
        return _denied("Request has expired")
    report = next((r for r in state.reports.values() if r.document_id == document_id), None)
    generator = state.generators[report.business_id] if report else None
    doc = find_invoice(generator, report.invoice_number) if generator and report else None
    if doc is None:
        return _denied("The specified key does not exist.")
    pdf = render_pdf(invoice_lines(doc.number, doc.kind, doc.record))
    packaging = state.faults.document_packaging
    if packaging == "pdf":
        return Response(pdf, media_type="application/pdf")
    return Response(package(pdf, packaging, state.faults.document_member_name))


def package(pdf: bytes, packaging: str, member_name: str) -> bytes:
    """The PDF wrapped the way ``Faults.document_packaging`` says.

    getReportDocument may answer ``compressionAlgorithm: GZIP`` (document-2021-09-30.json,
    ReportDocument); a third-party fetcher reports ZIPs, possibly gzip-wrapped, with no word on
    member names (amazon-business-api.md §5.2) - so the PDF follows a non-PDF manifest member
    and its name is a knob.
    """
    body = pdf
    if "zip" in packaging.split("_"):
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr("manifest.xml", "<manifest><document/></manifest>")
            archive.writestr(member_name, pdf)
        body = buffer.getvalue()
    if packaging.startswith("gzip"):
        body = gzip.compress(body, mtime=0)
    return body


def _denied(message: str) -> Response:
    body = (
        "<?xml version='1.0' encoding='UTF-8'?>"
        f"<Error><Code>AccessDenied</Code><Message>{message}</Message></Error>"
    )
    return PlainTextResponse(body, status_code=403, media_type="application/xml")

"""Invoice and credit-memo PDFs through the Document API (createReport → getReport →
getReportDocument → download from the short-lived URL)."""

from __future__ import annotations

import gzip
import io
import zipfile
from dataclasses import dataclass
from typing import Any

import httpx

from abxero.amazon.api import AmazonApi
from abxero.amazon.errors import FatalError, RetriableError, SkippableRecordError
from abxero.amazon.invoices import OrderLineRef

REPORTS_PATH = "/reports/2021-09-30/reports"
DOCUMENTS_PATH = "/reports/2021-09-30/documents"
REPORT_TYPE = "GET_AB_INVOICE_PDF"
FINISHED = frozenset({"DONE", "FATAL", "CANCELLED"})


@dataclass(frozen=True)
class ReportStatus:
    report_id: str
    status: str
    document_id: str = ""


@dataclass(frozen=True)
class ReportDocument:
    document_id: str
    url: str
    compression: str = ""


def unpack_pdf(payload: bytes) -> bytes:
    """The PDF inside a download: bare, gzip-wrapped, in a ZIP, or a gzip-wrapped ZIP.

    ``getReportDocument`` may name ``compressionAlgorithm`` GZIP (document-2021-09-30.json);
    a third-party fetcher reports ZIPs too (amazon-business-api.md §5.2), with no word on the
    member's name, so a ZIP member is taken by its ``.pdf`` name or else by its ``%PDF`` bytes.
    """
    try:
        if payload[:2] == b"\x1f\x8b":
            payload = gzip.decompress(payload)
        if payload[:2] == b"PK":
            payload = _pdf_member(payload)
    except (OSError, EOFError, zipfile.BadZipFile) as problem:
        raise SkippableRecordError(
            f"the downloaded document cannot be unpacked: {problem}"
        ) from problem
    if not payload.startswith(b"%PDF"):
        raise SkippableRecordError("the downloaded document is not a PDF")
    return payload


def _pdf_member(archive_bytes: bytes) -> bytes:
    with zipfile.ZipFile(io.BytesIO(archive_bytes)) as archive:
        names = archive.namelist()
        named = [name for name in names if name.lower().endswith(".pdf")]
        for name in named + [name for name in names if name not in named]:
            content = archive.read(name)
            if content.startswith(b"%PDF"):
                return content
    raise SkippableRecordError(f"no PDF among the archive's members {names}")


class DocumentClient:
    """One connection's Document API calls; ``download_http`` fetches pre-signed URLs."""

    def __init__(self, api: AmazonApi, download_http: httpx.Client | None = None) -> None:
        self.api = api
        self.download_http = download_http or api.http

    def create_invoice_report(
        self,
        marketplace_id: str,
        *,
        invoice_id: str | None = None,
        document_type: str = "Invoice",
        order_line: OrderLineRef | None = None,
    ) -> str:
        """Ask for one invoice (``document_type`` "Invoice" or "Credits") or an order line's."""
        if invoice_id:
            options = {"invoiceId": invoice_id, "documentType": document_type}
        elif order_line is not None:
            options = order_line.as_json()
        else:
            raise ValueError("give invoice_id or order_line")
        spec = {
            "reportType": REPORT_TYPE,
            "marketplaceIds": [marketplace_id],
            "reportOptions": options,
        }
        body = self.api.post(REPORTS_PATH, spec)
        if not isinstance(body, dict) or not body.get("reportId"):
            raise FatalError("createReport answered without a reportId")
        return str(body["reportId"])

    def get_report(self, report_id: str) -> ReportStatus:
        body: Any = self.api.get(f"{REPORTS_PATH}/{report_id}")
        if not isinstance(body, dict):
            raise FatalError("getReport answered without a report")
        return ReportStatus(
            report_id=str(body.get("reportId", report_id)),
            status=str(body.get("processingStatus", "")),
            document_id=str(body.get("reportDocumentId") or ""),
        )

    def wait_for_report(
        self, report_id: str, *, poll_seconds: float = 5.0, max_polls: int = 60
    ) -> str:
        """The document id once the report is DONE; FATAL/CANCELLED mean no document."""
        for _ in range(max_polls):
            report = self.get_report(report_id)
            if report.status == "DONE" and report.document_id:
                return report.document_id
            if report.status in FINISHED:
                raise SkippableRecordError(
                    f"report {report_id} ended {report.status}: no document", code=report.status
                )
            self.api.sleep(poll_seconds)
        raise RetriableError(f"report {report_id} still not done after {max_polls} polls")

    def get_document(self, document_id: str) -> ReportDocument:
        body: Any = self.api.get(f"{DOCUMENTS_PATH}/{document_id}")
        if not isinstance(body, dict) or not body.get("url"):
            raise FatalError("getReportDocument answered without a url")
        return ReportDocument(
            str(body.get("reportDocumentId", document_id)),
            str(body["url"]),
            str(body.get("compressionAlgorithm") or ""),
        )

    def download(self, document: ReportDocument) -> bytes:
        """The PDF bytes behind a pre-signed URL (sent without any Amazon headers)."""
        try:
            response = self.download_http.get(document.url)
        except httpx.TransportError as problem:
            raise RetriableError(f"document download failed: {problem!r}") from problem
        if response.status_code == 403:
            raise RetriableError("the document URL has expired; ask getReportDocument again")
        if not response.is_success:
            raise RetriableError(f"document download answered {response.status_code}")
        return unpack_pdf(response.content)

    def fetch_invoice_pdf(
        self,
        marketplace_id: str,
        invoice_id: str,
        *,
        document_type: str = "Invoice",
        poll_seconds: float = 5.0,
    ) -> bytes:
        """The whole flow for one invoice or credit memo."""
        report_id = self.create_invoice_report(
            marketplace_id, invoice_id=invoice_id, document_type=document_type
        )
        document_id = self.wait_for_report(report_id, poll_seconds=poll_seconds)
        return self.download(self.get_document(document_id))

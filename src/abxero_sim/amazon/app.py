"""Assembling the simulator's routes into one ASGI app."""

from __future__ import annotations

from pathlib import Path

from starlette.applications import Starlette
from starlette.routing import Route

from abxero_sim.amazon import admin as admin_routes
from abxero_sim.amazon import consent, documents, reconciliation
from abxero_sim.amazon.businesses import DEFAULT_BUSINESSES, Business, Region
from abxero_sim.amazon.sandbox import Sandbox, load_samples
from abxero_sim.amazon.shapes import Shapes
from abxero_sim.amazon.state import AppRegistration, SimulatorState
from abxero_sim.amazon.wire import Handler, api_endpoint
from abxero_sim.clock import Clock
from abxero_sim.specs import amazon_models_dir

RECONCILIATION = "/reconciliation/2021-01-08"
REPORTS = "/reports/2021-09-30"
USE_DEFAULT_SPECS = Path("<find>")

API_ROUTES: tuple[tuple[str, str, str, Handler], ...] = (
    (f"{RECONCILIATION}/transactions", "GET", "getTransactions", reconciliation.get_transactions),
    (
        f"{RECONCILIATION}/invoices",
        "POST",
        "getInvoiceDetailsByOrderLineItems",
        reconciliation.get_invoice_details,
    ),
    (
        f"{RECONCILIATION}/invoices/batch/paymentDetails",
        "POST",
        "getBatchInvoicePaymentDetails",
        reconciliation.get_payment_details,
    ),
    (f"{REPORTS}/reports", "POST", "createReport", documents.create_report),
    (f"{REPORTS}/reports", "GET", "getReports", documents.get_reports),
    (f"{REPORTS}/reports/{{reportId}}", "GET", "getReport", documents.get_report),
    (f"{REPORTS}/reports/{{reportId}}", "DELETE", "cancelReport", documents.cancel_report),
    (
        f"{REPORTS}/documents/{{reportDocumentId}}",
        "GET",
        "getReportDocument",
        documents.get_report_document,
    ),
)


def create_app(
    seed: int = 0,
    *,
    admin: bool = False,
    clock: Clock | None = None,
    region: Region | str | None = None,
    state: SimulatorState | None = None,
    registration: AppRegistration | None = None,
    businesses: tuple[Business, ...] = DEFAULT_BUSINESSES,
    orders_per_day: float | None = None,
    specs_dir: Path | None = USE_DEFAULT_SPECS,
    shapes: Shapes | None = None,
) -> Starlette:
    """The Amazon Business simulator as an ASGI app (see the package docstring).

    ``region`` None serves both stores from one app; "US" or "UK" serves one store only (its
    consent page lists only that store's businesses, and its API refuses the other region's
    tokens). Pass the same ``state`` to two apps to serve the NA and EU hosts apart.
    ``specs_dir`` is the folder of Amazon's models for the static sandbox (default: the one
    ``abxero_sim.specs`` names, ``SpecsMissing`` when absent; None serves no samples).
    """
    shared = state or SimulatorState(
        seed,
        clock=clock,
        businesses=businesses,
        registration=registration,
        orders_per_day=orders_per_day,
        shapes=shapes,
    )
    served = Region(region) if region is not None else None
    routes = [
        Route("/b2b/abws/oauth", consent.consent_page, methods=["GET"]),
        Route("/b2b/abws/oauth/consent", consent.consent_decision, methods=["POST"]),
        Route("/auth/o2/token", consent.token_endpoint, methods=["POST"]),
        Route("/_documents/{documentId}", documents.download_document, methods=["GET"]),
    ]
    routes += [
        Route(path, api_endpoint(operation, handler, served), methods=[method])
        for path, method, operation, handler in API_ROUTES
    ]
    if admin:
        routes += admin_routes.ROUTES
    app = Starlette(routes=routes)
    app.state.sim = shared
    app.state.region = served
    folder = amazon_models_dir() if specs_dir is USE_DEFAULT_SPECS else specs_dir
    app.state.sandbox = Sandbox(load_samples(folder))
    return app

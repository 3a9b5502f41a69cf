"""The simulated Amazon Business customers: their stores, legal entities and instruments."""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal
from enum import StrEnum

PAY_BY_INVOICE = "Pay by Invoice"


class Region(StrEnum):
    """An Amazon Business store this simulator serves."""

    US = "US"
    UK = "UK"

    @property
    def marketplace_id(self) -> str:
        return "ATVPDKIKX0DER" if self is Region.US else "A1F83G8C2ARO7P"

    @property
    def currency(self) -> str:
        return "USD" if self is Region.US else "GBP"

    @property
    def store(self) -> str:
        return "amazon.com" if self is Region.US else "amazon.co.uk"

    @property
    def api_region(self) -> str:
        return "NA" if self is Region.US else "EU"


@dataclass(frozen=True)
class LegalEntity:
    """A legal entity with its purchasing groups; US entities carry their state's sales tax."""

    name: str
    groups: tuple[str, ...]
    state: str = ""
    sales_tax: Decimal = Decimal("0")
    shipping_taxed: bool = False


@dataclass(frozen=True)
class PaymentMethod:
    """An instrument as Amazon reports it: free-text type and last four digits."""

    kind: str
    last4: str = ""

    @property
    def is_invoice(self) -> bool:
        return self.kind == PAY_BY_INVOICE


@dataclass(frozen=True)
class Buyer:
    account_id: str
    name: str
    email: str


@dataclass(frozen=True)
class Business:
    """One Amazon Business account; one consent covers all of its legal entities."""

    business_id: str
    name: str
    region: Region
    order_prefix: str
    legal_entities: tuple[LegalEntity, ...]
    instruments: tuple[PaymentMethod, ...]
    buyers: tuple[Buyer, ...]
    order_info_labels: tuple[str, ...]
    orders_per_day: float
    history_days: int = 120
    shared_payment_methods: bool = True
    """Knob: the cards and Pay by Invoice belong to the business account (Amazon Business
    "shared payment methods"), so each record's ``payer`` is that account. The Reconciliation
    model defines ``payer`` as "The customer account that owns the payment instrument with which
    the order was paid" (``Transaction.payer``, ../shared/specs/amazon-business/
    reconciliation-2021-01-08.json). False: buyers pay with their own methods and ``payer`` is
    the buyer, as in Amazon's sandbox sample."""

    @property
    def currency(self) -> str:
        return self.region.currency

    @property
    def marketplace_id(self) -> str:
        return self.region.marketplace_id

    def payer(self, buyer: dict[str, str]) -> dict[str, str]:
        """The ``payer`` customer of a record whose ``buyer`` is ``buyer``."""
        if not self.shared_payment_methods:
            return buyer
        domain = buyer.get("email", "@example").rpartition("@")[2]
        return {
            "id": f"amzn1.account.SIMBUSINESS-{self.business_id}",
            "name": self.name,
            "email": f"accounts@{domain}",
        }

    @property
    def cards(self) -> tuple[PaymentMethod, ...]:
        return tuple(method for method in self.instruments if not method.is_invoice)


def _buyer(tag: str, name: str, domain: str) -> Buyer:
    return Buyer(f"amzn1.account.SIM{tag}", name, f"{name.split()[0].lower()}@{domain}")


ACME = Business(
    business_id="us-acme",
    name="Acme Robotics Inc.",
    region=Region.US,
    order_prefix="114",
    legal_entities=(
        LegalEntity(
            "Acme Robotics Inc.", ("Engineering", "Operations"), "CA", Decimal("0.0725"), False
        ),
        LegalEntity("Acme Robotics Texas LLC", ("Warehouse",), "TX", Decimal("0.0625"), True),
        LegalEntity("Acme Labs NY Corp.", ("Research", "Admin"), "NY", Decimal("0.04"), True),
    ),
    instruments=(
        PaymentMethod("Visa", "4242"),
        PaymentMethod("American Express", "1005"),
        PaymentMethod("Mastercard", "5454"),
        PaymentMethod(PAY_BY_INVOICE),
    ),
    buyers=(
        _buyer("ACME0001", "Dana Whitfield", "acme-robotics.example"),
        _buyer("ACME0002", "Luis Ortega", "acme-robotics.example"),
        _buyer("ACME0003", "Priya Raman", "acme-robotics.example"),
    ),
    order_info_labels=("GL code", "Cost center", "Project"),
    orders_per_day=10,
)

BLUEBIRD = Business(
    business_id="us-bluebird",
    name="Bluebird Dental LLC",
    region=Region.US,
    order_prefix="113",
    legal_entities=(
        LegalEntity("Bluebird Dental LLC", ("Front desk", "Clinic"), "WA", Decimal("0.065"), True),
    ),
    instruments=(PaymentMethod("Visa", "0071"), PaymentMethod("Mastercard", "8830")),
    buyers=(_buyer("BLUE0001", "Mia Chen", "bluebird-dental.example"),),
    order_info_labels=("GL code",),
    orders_per_day=2,
)

HARBOUR = Business(
    business_id="uk-harbour",
    name="Harbour Analytics Ltd",
    region=Region.UK,
    order_prefix="202",
    legal_entities=(
        LegalEntity("Harbour Analytics Ltd", ("Data Science", "Facilities")),
        LegalEntity("Harbour Analytics Scotland Ltd", ("Edinburgh Office",)),
    ),
    instruments=(
        PaymentMethod("Visa", "8812"),
        PaymentMethod("Mastercard", "3310"),
        PaymentMethod("American Express", "2001"),
        PaymentMethod(PAY_BY_INVOICE),
    ),
    buyers=(
        _buyer("HARB0001", "Oliver Hughes", "harbour-analytics.example"),
        _buyer("HARB0002", "Amelia Patel", "harbour-analytics.example"),
    ),
    order_info_labels=("GL code", "Cost centre", "Project"),
    orders_per_day=8,
)

THISTLE = Business(
    business_id="uk-thistle",
    name="Thistle & Co Ltd",
    region=Region.UK,
    order_prefix="203",
    legal_entities=(LegalEntity("Thistle & Co Ltd", ("Studio",)),),
    instruments=(PaymentMethod("Visa", "6604"),),
    buyers=(_buyer("THIS0001", "Fiona Campbell", "thistle.example"),),
    order_info_labels=("Cost centre",),
    orders_per_day=2,
)

DEFAULT_BUSINESSES: tuple[Business, ...] = (ACME, BLUEBIRD, HARBOUR, THISTLE)


def scaled(businesses: tuple[Business, ...], orders_per_day: float | None) -> tuple[Business, ...]:
    """The businesses with a different order rate (for scale tests), or unchanged."""
    if orders_per_day is None:
        return businesses
    return tuple(replace(business, orders_per_day=orders_per_day) for business in businesses)

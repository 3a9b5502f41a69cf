"""Products and sellers the generator buys from."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from abxero_sim.amazon.businesses import Region

STANDARD = Decimal("0.20")
REDUCED = Decimal("0.05")
ZERO_RATE = Decimal("0.00")


@dataclass(frozen=True)
class Product:
    """A catalogue entry; ``uk_vat`` is the UK VAT rate of the item, ``fee`` a regulatory fee."""

    title: str
    asin: str
    unspsc: str
    price_cents: tuple[int, int]
    uk_vat: Decimal = STANDARD
    us_taxable: bool = True
    digital: bool = False
    fee: Decimal = Decimal("0")


@dataclass(frozen=True)
class Seller:
    """A merchant; ``charges_vat`` is False for UK "No VAT" and non-GB sellers."""

    name: str
    charges_vat: bool = True


PRODUCTS: tuple[Product, ...] = (
    Product("Ticonderoga #2 Pencils, 96-Count", "B07T8K1HJG", "44121706", (899, 1899)),
    Product("HP 64XL Black Ink Cartridge", "B06WVK5WMF", "44103105", (2999, 4599)),
    Product("Copy Paper A4 80gsm, 5 Reams", "B00H3ZQ4V2", "14111507", (1899, 3299)),
    Product("Logitech MX Master 3S Mouse", "B09HM94VDS", "43211708", (7999, 9999)),
    Product(
        "Dell 27in USB-C Monitor",
        "B0BQ3G7TLL",
        "43211902",
        (21999, 34999),
        fee=Decimal("5.00"),
    ),
    Product(
        "AA Alkaline Batteries, 48-Pack",
        "B00MNV8E0C",
        "26111702",
        (1599, 2499),
        fee=Decimal("0.50"),
    ),
    Product("Nitrile Exam Gloves, Box of 100", "B08KJ2Z1QX", "42132203", (1099, 1999)),
    Product(
        "Children's Safety Car Seat",
        "B07QXV6N1B",
        "46182400",
        (8999, 15999),
        uk_vat=REDUCED,
    ),
    Product(
        "Home Energy-Saving LED Bulbs, 10-Pack",
        "B01DBZ6V3K",
        "39101600",
        (1299, 2499),
        uk_vat=REDUCED,
    ),
    Product("Accounting Principles (Paperback)", "0470534796", "55101500", (2499, 5999), ZERO_RATE),
    Product(
        "Ground Coffee Beans 1kg",
        "B00SOUGGI8",
        "50201706",
        (1299, 2199),
        uk_vat=ZERO_RATE,
        us_taxable=False,
    ),
    Product(
        "Microsoft 365 Business Standard (download)",
        "B0B9SV9DQV",
        "43233004",
        (9999, 14999),
        digital=True,
    ),
    Product("Standing Desk Converter", "B07H8Q2X1C", "56101703", (13999, 25999)),
    Product("Whiteboard Markers, 12 Colours", "B00006IFHD", "44121708", (699, 1499)),
)

AMAZON_SELLERS = {
    Region.US: Seller("Amazon.com Services LLC"),
    Region.UK: Seller("Amazon EU S.a.r.l., UK Branch"),
}

MARKETPLACE_SELLERS = {
    Region.US: (Seller("Office Depot Online LLC"), Seller("TechDirect Wholesale Inc.")),
    Region.UK: (
        Seller("Viking Direct Ltd"),
        Seller("Mizuta Trading Co., Ltd", charges_vat=False),
        Seller("Shenzhen Sepo Supply Chain Co., LTD", charges_vat=False),
        Seller("Crafty Corner (No VAT)", charges_vat=False),
    ),
}

REFUND_REASONS = ("Customer return", "Item damaged in transit", "Wrong item received")

"""Mapping defaults a bookkeeper would choose, and the card-currency check (issue #21, item 7)."""

from __future__ import annotations

from dataclasses import replace

from abxero.domain.context import Account
from abxero.domain.defaults import default_card_accounts, default_mapping
from abxero.domain.mapping import AccountPayment, PaymentPolicy
from abxero.domain.mapping_checks import MappingProblem, check_mapping
from abxero.domain.transactions import Instrument
from tests.domain.domain_fixtures import uk_context, us_context, us_mapping


def _bank(code: str, name: str, currency: str = "", kind: str = "CREDITCARD") -> Account:
    return Account(f"id-{code}", code, name, "BANK", bank_account_type=kind, currency=currency)


def test_us_cards_map_to_the_card_accounts_named_after_their_brand() -> None:
    cards = [Instrument("Visa", "0071"), Instrument("American Express", "1005")]
    mapping = default_mapping(us_context(), [*cards, Instrument("Mastercard", "8830")])
    assert mapping.payment_methods["Visa/0071"] == AccountPayment(account="092")
    assert mapping.payment_methods["American Express/1005"] == AccountPayment(account="091")
    assert "Mastercard/8830" not in mapping.payment_methods  # no account names it


def test_last_four_digits_win_over_the_brand() -> None:
    context = replace(
        us_context(),
        accounts=(*us_context().accounts, _bank("095", "Visa 4242 (travel)")),
    )
    chosen = default_card_accounts(
        context, [Instrument("Visa", "4242"), Instrument("Visa", "1111")]
    )
    assert chosen["Visa/4242"].code == "095"
    # the other Visa card may take the one account that names only the brand
    assert chosen["Visa/1111"].code == "092"


def test_two_cards_never_share_an_account_by_brand_alone() -> None:
    chosen = default_card_accounts(
        us_context(), [Instrument("Visa", "1111"), Instrument("Visa", "2222")]
    )
    assert chosen == {}


def test_uk_cards_are_not_all_poured_into_one_card_account() -> None:
    """The UK organisation's one card account names no brand: every card stays unmapped."""
    cards = [Instrument("Visa", "8812"), Instrument("Mastercard", "3310")]
    mapping = default_mapping(uk_context(), [*cards, Instrument("Pay by Invoice")])
    assert set(mapping.payment_methods) == {"Pay by Invoice"}


def test_a_default_never_takes_an_account_in_another_currency() -> None:
    context = replace(uk_context(), accounts=(*uk_context().accounts, _bank("096", "Visa", "EUR")))
    gbp = {"Visa/8812": frozenset({"GBP"})}
    assert default_card_accounts(context, [Instrument("Visa", "8812")], gbp) == {}
    eur = {"Visa/8812": frozenset({"EUR"})}
    assert (
        default_card_accounts(context, [Instrument("Visa", "8812")], eur)["Visa/8812"].code == "096"
    )


def test_a_eur_account_cannot_take_a_gbp_card() -> None:
    mapping = default_mapping(uk_context(), []).model_copy(
        update={"payment_methods": {"Visa/8812": AccountPayment(account="093")}}
    )
    problems = check_mapping(mapping, uk_context(), {"Visa/8812": frozenset({"GBP"})})
    assert problems == (
        MappingProblem(
            "payment_methods['Visa/8812'].account",
            "Visa ending 8812 pays in GBP, but 093 Euro Card holds EUR; choose an account in GBP",
        ),
    )
    # in the base currency the same card fits any account without a currency of its own
    fits = mapping.model_copy(
        update={"payment_methods": {"Visa/8812": AccountPayment(account="091")}}
    )
    assert check_mapping(fits, uk_context(), {"Visa/8812": frozenset({"GBP"})}) == ()


def test_spend_money_from_an_account_in_another_currency_is_refused_too() -> None:
    method = AccountPayment(account="093", policy=PaymentPolicy.SPEND_MONEY)
    mapping = default_mapping(uk_context(), []).model_copy(
        update={"payment_methods": {"Visa/1": method}}
    )
    problems = check_mapping(mapping, uk_context(), {"Visa/1": frozenset({"GBP"})})
    assert [problem.entry for problem in problems] == ["payment_methods['Visa/1'].account"]


def test_without_currencies_nothing_is_assumed() -> None:
    assert check_mapping(us_mapping(), us_context()) == ()

"""Which account and tracking options a line gets: the mapping's rules, first match wins."""

from __future__ import annotations

from dataclasses import dataclass

from abxero.domain.context import OrgContext
from abxero.domain.mapping import ExpenseRule, Expenses, RuleField, TrackingRule, TrackingSource
from abxero.domain.transactions import LineItem, Transaction


def _same(left: str, right: str) -> bool:
    return left.strip().casefold() == right.strip().casefold()


def rule_matches(rule: ExpenseRule, line: LineItem, transaction: Transaction) -> bool:
    match rule.match:
        case RuleField.BUSINESS_ORDER_INFO:
            return any(
                _same(label, rule.label) and _same(value, rule.value)
                for label, value in line.business_order_info.items()
            )
        case RuleField.UNSPSC_PREFIX:
            return bool(line.unspsc) and line.unspsc.strip().startswith(rule.value.strip())
        case RuleField.PURCHASING_GROUP:
            return _same(transaction.purchasing_group, rule.value)
        case RuleField.LEGAL_ENTITY:
            return _same(transaction.legal_entity, rule.value)
        case RuleField.SELLER:
            return _same(line.seller, rule.value)
        case RuleField.TITLE_KEYWORD:
            return rule.value.strip().casefold() in line.title.casefold()


def item_account(line: LineItem, transaction: Transaction, expenses: Expenses) -> str:
    """The account reference for the item part of ``line``."""
    for rule in expenses.rules:
        if rule_matches(rule, line, transaction):
            return rule.account
    return expenses.default_account


@dataclass(frozen=True, order=True)
class TrackingPick:
    category: str
    option: str


def _source_value(rule: TrackingRule, line: LineItem, transaction: Transaction) -> str:
    match rule.source:
        case TrackingSource.BUSINESS_ORDER_INFO:
            for label, value in line.business_order_info.items():
                if _same(label, rule.label):
                    return value.strip()
            return ""
        case TrackingSource.PURCHASING_GROUP:
            return transaction.purchasing_group
        case TrackingSource.LEGAL_ENTITY:
            return transaction.legal_entity


def line_tracking(
    rules: tuple[TrackingRule, ...], line: LineItem, transaction: Transaction, context: OrgContext
) -> tuple[TrackingPick, ...]:
    """The tracking of ``line``: one pick per rule whose category has a matching option."""
    picks = []
    for rule in rules:
        category = context.tracking_category(rule.category)
        if category is None:
            continue
        value = _source_value(rule, line, transaction)
        wanted = rule.options.get(value, value) if value else ""
        option = category.option(wanted) if wanted else None
        if option is None and rule.default_option:
            option = category.option(rule.default_option)
        if option is not None:
            picks.append(TrackingPick(category.name, option.name))
    return tuple(picks)

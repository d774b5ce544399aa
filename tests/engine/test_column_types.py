"""Reading column types as written (shared by DB004-DB008) and the money-name matching of DB005."""

from __future__ import annotations

import pytest

from analyzers.rules._column_types import TypeText, name_words
from analyzers.rules.db005_float_for_money import DEFAULT_NAMES, DEFAULT_SUFFIXES, is_money_name


@pytest.mark.parametrize(("text", "name", "arguments"), [
    ("DateTime(timezone=True)", "datetime", "timezone=true"),
    ("timestamp(3) with time zone", "timestamp with time zone", "3"),
    ("timestamp without time zone", "timestamp without time zone", ""),
    ("VARCHAR(255)", "varchar", "255"),
    ("character varying", "character varying", ""),
    ("String(collation=\"utf8mb4_bin\")", "string", "collation=\"utf8mb4_bin\""),
    ("double precision", "double precision", ""),
    ("CharField(120)", "charfield", "120"),
    (None, "", ""),
])
def test_type_text_splits_name_and_arguments(text: str | None, name: str, arguments: str) -> None:
    parsed = TypeText.of(text)
    assert (parsed.name, parsed.arguments) == (name, arguments)


def test_type_text_keywords_and_positionals() -> None:
    parsed = TypeText.of("String(length=120, collation='x')")
    assert parsed.keyword("length") == "120" and parsed.keyword("timezone") is None
    assert TypeText.of("DateTime(True)").positional() == ["true"]


def test_name_words_split_snake_and_camel_case() -> None:
    assert name_words("unitPriceUSD") == ["unit", "price", "usd"]
    assert name_words("total_amount_2") == ["total", "amount", "2"]


@pytest.mark.parametrize(("name", "money"), [
    ("price", True), ("unit_price", True), ("totalUsd", True), ("price_incl_tax", True), ("amount_due", True),
    ("tax_rate", False), ("total_weight", False), ("price_cents", False), ("discount_percent", False),
    ("priceless", False), ("charge_level", False), ("latitude", False),
])
def test_money_names(name: str, money: bool) -> None:
    assert is_money_name(name, set(DEFAULT_NAMES), set(DEFAULT_SUFFIXES)) is money

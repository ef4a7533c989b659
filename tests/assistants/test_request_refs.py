"""What a customer's request names, found in four languages: order references, sizes and colours,
money with its currency, dates and deadlines (assistants/request_refs.py)."""

from decimal import Decimal

import pytest

from assistants.request_refs import dates_find, money_find, order_refs_find, variants_find

# --- order references ----------------------------------------------------------------------------------

@pytest.mark.parametrize("text", [
    "Where is #1002?", "where is order 1002", "Order No. 1002 has not arrived", "order no.1002", "order number 1002?",
    "my order #1002", "Order Nr. 1002", "ORDER: 1002", "Bestellung 1002", "Bestellnr. 1002", "Bestellnummer: 1002",
    "Bestell-Nr. 1002", "mi pedido 1002", "pedido nº 1002", "pedido número 1002", "la commande 1002",
    "commande n° 1002", "commande numéro 1002", "n° 1002", "Nº1002", "No. 1002",
])
def test_an_order_reference_is_found_in_every_common_form(text):
    assert order_refs_find(text) == ["#1002"]


@pytest.mark.parametrize("text", [
    "I ordered 2 tents", "call me on 0161 555 1234", "size 10 please", "I paid 1002 dollars", "EU 42",
    "in 2026", "tracking 1Z999AA10123456784",
])
def test_numbers_that_are_not_order_references_are_not_taken_for_one(text):
    assert order_refs_find(text) == []


def test_several_orders_keep_their_order_and_are_not_repeated():
    assert order_refs_find("Orders 1002 and #1005, and again order #1002") == ["#1002", "#1005"]


# --- variants, money, dates ----------------------------------------------------------------------------

@pytest.mark.parametrize("text,expected", [
    ("do you have it in XL", {("size", "XL")}),
    ("the boots in EU 42", {("size", "EU 42")}),
    ("size 10 in black", {("size", "10"), ("colour", "black")}),
    ("Habt ihr die Jacke in Größe M in Schwarz?", {("size", "M"), ("colour", "black")}),
    ("die grünen Schuhe in 43", {("colour", "green")}),
    ("¿La tienen en talla 38 y en rojo?", {("size", "38"), ("colour", "red")}),
    ("la chaqueta negra talla S", {("size", "S"), ("colour", "black")}),
    ("Vous l'avez en taille L, couleur verte ?", {("size", "L"), ("colour", "green")}),
    ("le sac bleu marine", {("colour", "navy")}),
    ("Where is my order?", set()),
    ("I am a big fan of your shop", set()),
])
def test_variants_are_found(text, expected):
    assert {(v.kind, v.value) for v in variants_find(text)} == expected


@pytest.mark.parametrize("text,amount,currency", [
    ("I paid €49.99", "49.99", "EUR"), ("it cost 49,99 € on your site", "49.99", "EUR"),
    ("charged $120 twice", "120", "USD"), ("£15.50 for postage?", "15.50", "GBP"),
    ("refund of 30 euros", "30", "EUR"), ("CHF 25", "25", "CHF"), ("1.299,00 EUR", "1299.00", "EUR"),
    ("USD 20", "20", "USD"), ("me cobraron 35 €", "35", "EUR"), ("j'ai payé 12,50 euros", "12.50", "EUR"),
    ("$1,250.00", "1250.00", "USD"),
])
def test_money_is_found_with_its_currency(text, amount, currency):
    found = money_find(text)
    assert [(m.amount, m.currency) for m in found] == [(Decimal(amount), currency)]


def test_numbers_without_a_currency_are_not_money():
    assert money_find("order 1002, size 44, 3 tents") == []


@pytest.mark.parametrize("text,deadline,weekday,day,month", [
    ("I need it by Friday", True, 4, None, None),
    ("can it arrive before the 24th?", True, None, 24, None),
    ("Ich brauche es bis Freitag", True, 4, None, None),
    ("lo necesito antes del viernes", True, 4, None, None),
    ("il me le faut avant samedi", True, 5, None, None),
    ("by 24 December at the latest", True, None, 24, 12),
    ("spätestens am 3. Dezember", True, None, 3, 12),
    ("antes del 15 de marzo", True, None, 15, 3),
    ("avant le 2 janvier", True, None, 2, 1),
    ("we leave on Saturday", False, 5, None, None),
    ("no later than 12/20", True, None, 20, 12),
])
def test_dates_and_deadlines_are_found(text, deadline, weekday, day, month):
    found = dates_find(text)
    assert len(found) == 1, found
    assert (found[0].deadline, found[0].weekday, found[0].day, found[0].month) == (deadline, weekday, day, month)


def test_relative_days_are_found():
    assert [d.relative for d in dates_find("can it come tomorrow or next week")] == ["tomorrow", "next_week"]
    assert [d.relative for d in dates_find("bis morgen")] == ["tomorrow"]
    assert dates_find("bis morgen")[0].deadline

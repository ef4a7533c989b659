"""The one scrubber that keeps a customer's facts out of text others see (omnichannel/pii_scrub.py)."""

from __future__ import annotations

import pytest

from omnichannel.pii_scrub import known_facts, pii_found, pii_scrub

ADA = known_facts(names=["Ada Lovelace"], first_names=["Ada"], addresses=["12 St James's Square", "SW1Y 4JH",
                                                                           "Bletchley Park"],
                  phones=["+44 20 7946 0101"], emails=["ada.lovelace@example.com"])


@pytest.mark.parametrize(("text", "expected"), [
    ("Hi Ada,\n\nYour order #1001 has shipped.", "Hi [name],\n\nYour order [order number] has shipped."),
    ("Thanks,\nAda", "Thanks,\n[name]"),
    ("Has my refund been processed?\nKind regards, Katherine", "Has my refund been processed?\nKind regards, [name]"),
    ("how long until it is?\nE.W.D.", "how long until it is?\n[name]"),
    ("Ada Lovelace lives at Bletchley Park.", "[name] lives at [address]."),
    ("It goes to 12 St James's Square, London SW1Y 4JH.", "It goes to [address], London [address]."),
    ("send it to 78 High Street, Wilmslow SK9 1AA instead", "send it to [address] instead"),
    ("Plantage Muidergracht 24, Amsterdam 1018 TV", "[address]"),
    ("We sent it to 1 Navy Yard, Arlington, VA 22202.", "We sent it to [address]."),
    ("Call +44 20 7946 0101 or (415) 555-0132, or +31 6 1234 5678.",
     "Call [phone number] or [phone number], or [phone number]."),
    ("Write to grace.hopper@example.com or support@demo-shop.example",
     "Write to [email] or support@demo-shop.example"),
    ("UPS 1Z999AA10123456784, USPS 9400111899223197428490, FedEx 794644790132, DHL JD014600006281234567, "
     "Royal Mail RR123456789GB, 9400 1118 9922 3197 4284 90",
     "UPS [tracking number], USPS [tracking number], FedEx [tracking number], DHL [tracking number], "
     "Royal Mail [tracking number], [tracking number]"),
    ("https://www.ups.com/track?tracknum=1Z999AA10123456784", "https://www.ups.com/track?tracknum=[tracking number]"),
    ("Order 1010 and order number 1007 arrived", "Order [order number] and order number [order number] arrived"),
    ("My name is Sam Smith and Mr Turing said hello", "My name is [name] and [name] said hello"),
])
def test_customer_facts_become_placeholders(text, expected):
    assert pii_scrub(text, known=ADA) == expected


@pytest.mark.parametrize("text", [
    "Orders ship within 1-2 business days. Standard delivery takes 3-5 business days in the US and UK.",
    "Our return window is 30 days from delivery (not 14, as an older page said).",
    "The Ridgeline 2-person tent (green) is in stock (14 available) at 249.00 USD, SKU TENT-2P-GRN.",
    "Expected back on 2026-12-01, lead time 21 days.",
    "Hi there,\n\nThanks for writing! We will check.\n\nBest regards,\nThe support team",
    "Adams and Adaline are not Ada.",
])
def test_shop_facts_and_ordinary_words_stay(text):
    expected = text.replace("not Ada.", "not [name].")
    assert pii_scrub(text, known=ADA) == expected


def test_first_names_are_replaced_only_where_the_caller_says_whose_they_are():
    assert pii_scrub("Grace notes on the tent", known=known_facts(names=["Grace Hopper"])) == "Grace notes on the tent"
    assert pii_scrub("Grace Hopper asked", known=known_facts(names=["Grace Hopper"])) == "[name] asked"


def test_pii_found_names_the_kinds_it_would_replace():
    assert pii_found("Order #1004 went with USPS 9400111899223197428490 to Bletchley Park", known=ADA) == [
        "address", "order number", "tracking number"]
    assert pii_found("Refunds take 5-7 business days.", known=ADA) == []

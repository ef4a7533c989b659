"""Reads of customer facts, and the customer_summary read model (customers/migrations/0002)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime

from django.db import connection
from django.db.models import Count, Max, Q
from django.db.models.functions import Lower

from customers.models import Customer, ErasureTombstone, Order
from customers.parts import guest_open_drafts
from omnichannel.lookups import fetch_together  # also registers `__any`
from omnichannel.pii import pii_key
from omnichannel.pii_scrub import KnownFacts, known_facts


@dataclass(frozen=True)
class OrderLine:
    id: int
    name: str
    status: str
    tracking: list
    placed_at: str | None
    total_price_cents: int


@dataclass(frozen=True)
class OpenDraft:
    """A reply waiting for an agent's review in one of the customer's conversations."""

    id: int
    conversation_id: int
    intent: str
    confidence: float
    created_at: str | None


@dataclass(frozen=True)
class CustomerSummary:
    customer_id: int | None  # None for a guest: orders under an email with no customer account
    email: str
    name: str
    segment: str
    lifetime_value_cents: int
    currency: str
    orders_count: int
    shipping_addresses: list
    latest_orders: list[OrderLine] = field(default_factory=list)
    backordered_count: int = 0
    open_drafts: list[OpenDraft] = field(default_factory=list)
    refreshed_at: datetime | str | None = None


_COLUMNS = ["customer_id", "email", "name", "segment", "lifetime_value_cents", "currency", "orders_count",
            "shipping_addresses", "latest_orders", "backordered_count", "open_drafts", "refreshed_at"]


def _json(value):
    return json.loads(value) if isinstance(value, str) else (value if value is not None else [])


def _from_row(row) -> CustomerSummary:
    data = dict(zip(_COLUMNS, row, strict=True))
    data["shipping_addresses"] = _json(data["shipping_addresses"])
    data["latest_orders"] = [OrderLine(**o) for o in _json(data["latest_orders"])]
    data["open_drafts"] = [OpenDraft(**d) for d in _json(data["open_drafts"])]
    return CustomerSummary(**data)


def _guest_summary(email: str) -> CustomerSummary | None:
    orders = list(Order.objects.filter(email__iexact=email, customer__isnull=True, is_erased=False)
                  .order_by("-placed_at", "-id")[:5])
    if not orders:
        return None
    return CustomerSummary(
        customer_id=None, email=email.lower(), name="", segment="guest",
        lifetime_value_cents=sum(o.total_price_cents for o in orders), currency=orders[0].currency,
        orders_count=len(orders), shipping_addresses=[o.shipping_address for o in orders if o.shipping_address][:1],
        latest_orders=[OrderLine(o.pk, o.name, o.status, o.tracking, o.placed_at.isoformat() if o.placed_at else None,
                                 o.total_price_cents) for o in orders],
        backordered_count=sum(o.status == Order.Status.BACKORDERED for o in orders),
        open_drafts=guest_open_drafts(email))  # conversations' reader (customers/parts.py)


def customer_summary_get(*, customer_id: int | None = None, email: str | None = None) -> CustomerSummary | None:
    """The typed summary the assistant's prompt and `/api/customer_summary/` share: the customer's facts,
    five latest orders with status and tracking, backorders and pending drafts (`open_drafts`).

    One indexed read of the read model (as fresh as its last refresh); guests (orders under an email
    with no customer account) are built from their orders. None when neither is known."""
    if customer_id is None and not email:
        raise ValueError("customer_summary_get needs customer_id or email")
    where, arg = ("customer_id = %s", customer_id) if customer_id is not None else ("email = %s", email.strip().lower())
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {', '.join(_COLUMNS)} FROM customer_summary WHERE {where} LIMIT 1", [arg])  # noqa: S608
        row = cursor.fetchone()
    if row is not None:
        return _from_row(row)
    return _guest_summary(email.strip()) if email else None


def customer_summary_refresh() -> None:
    """Postgres: refresh the materialized view without blocking readers. SQLite's view is always current."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("REFRESH MATERIALIZED VIEW CONCURRENTLY customer_summary")


def customer_find(*, email: str) -> Customer | None:
    return Customer.objects.filter(email__iexact=email.strip()).first() if email else None


# --- what we know of customers, for keeping one customer's facts out of text others see ----------------

def _address_terms(address: dict) -> tuple[list[str], list[str], list[str]]:
    """(lines, names, phones) of a shipping address: the street lines and postcode point at a person,
    as do who lives there and their phone; a city or a country alone does not."""
    if not isinstance(address, dict):
        return [], [], []
    name = address.get("name") or " ".join(filter(None, [address.get("first_name"), address.get("last_name")]))
    lines = [str(address.get(key) or "") for key in ("address1", "address2", "zip")]
    return lines, [str(name or "")], [str(address.get("phone") or "")]


class _Collected:
    def __init__(self) -> None:
        self.names: list[str] = []
        self.emails: list[str] = []
        self.phones: list[str] = []
        self.addresses: list[str] = []
        self.order_names: list[str] = []
        self.tracking: list[str] = []

    def address(self, address: dict) -> None:
        lines, names, phones = _address_terms(address)
        self.addresses += lines
        self.names += names
        self.phones += phones

    def person(self, name: str, email: str, phone: str, shipping_addresses) -> None:
        self.names.append(name)
        self.emails.append(email)
        self.phones.append(phone)
        for address in shipping_addresses or []:
            self.address(address)

    def order(self, name: str, email: str, address: dict, numbers, shipments) -> None:
        self.order_names.append(name)
        self.emails.append(email)
        self.address(address)
        self.tracking += [str(n) for n in numbers or []] + [str(t.get("number") or "") for t in shipments or []
                                                           if isinstance(t, dict)]

    def sender_facts(self) -> KnownFacts:
        """One sender's facts, their first names too."""
        return known_facts(names=self.names, first_names=[n.split()[0] for n in self.names if n and n.split()],
                           emails=self.emails, phones=self.phones, addresses=self.addresses,
                           order_numbers=self.order_names, tracking_numbers=self.tracking)


def customer_known_facts(*, customer_id: int | None = None, email: str = "", name: str = "") -> KnownFacts:
    """Everything we hold that identifies one customer (their first name too, which `customers_known_facts`
    leaves out): to scrub a reply written to them, or a question they asked, before others see it."""
    customer = Customer.objects.filter(pk=customer_id).first() if customer_id else None
    if customer is None and email:
        customer = customer_find(email=email)
    found = _Collected()
    found.names.append(name)
    found.emails.append(email)
    orders = Order.objects.none()
    if customer is not None:
        found.person(customer.name, customer.email, customer.phone, customer.shipping_addresses)
        orders = Order.objects.filter(customer=customer)
    if email:
        orders = orders | Order.objects.filter(email__iexact=email)
    for row in orders.values_list("name", "email", "shipping_address", "tracking_numbers", "tracking")[:200]:
        found.order(*row)
    return found.sender_facts()


_KNOWN_CACHE: dict[str, tuple[tuple, KnownFacts]] = {}


def _collect_customers(found: _Collected, rows) -> None:
    for row in rows:
        found.person(*row)


def customers_known_facts() -> KnownFacts:
    """Full names, emails, phones and address lines of every customer (and of guest checkouts).

    Held in memory per process and kept current by two aggregate reads per call: rows changed since
    the last read are added (a changed address leaves its old one in the set too, which only scrubs
    more); a deletion (a count that went down) reloads everything. A shop of 100k customers is a few
    MB of strings, read once, not once per reply indexed or drafted. Single first names are left out
    (see KnownFacts)."""
    customers = Customer.objects.filter(is_erased=False)
    guests = Order.objects.filter(customer__isnull=True, is_erased=False)
    now = (tuple(customers.aggregate(n=Count("id"), at=Max("updated_at")).values()),
           tuple(guests.aggregate(n=Count("id"), at=Max("updated_at")).values()))
    key = str(connection.settings_dict.get("NAME"))
    cached = _KNOWN_CACHE.get(key)
    if cached is not None and cached[0] == now:
        return cached[1]
    grown = cached is not None and all(
        n >= old_n and (old_at is None or (at is not None and at >= old_at))
        for (n, at), (old_n, old_at) in zip(now, cached[0], strict=True))
    found = _Collected()
    if grown:
        (_, customers_at), (_, guests_at) = cached[0]
        if customers_at is not None:
            customers = customers.filter(updated_at__gte=customers_at)
        if guests_at is not None:
            guests = guests.filter(updated_at__gte=guests_at)
    _collect_customers(found, customers.values_list("name", "email", "phone", "shipping_addresses")
                       .iterator(chunk_size=2000))
    for email, address in guests.values_list("email", "shipping_address").iterator(chunk_size=2000):
        found.emails.append(email)
        found.address(address)
    known = known_facts(names=found.names, emails=found.emails, phones=found.phones, addresses=found.addresses)
    if grown:
        known = cached[1] | known
    _KNOWN_CACHE[key] = (now, known)
    return known
@dataclass(frozen=True)
class Erased:
    """Which of the identifiers asked about an erasure covers, each with the time of its latest erasure."""

    emails: dict[str, datetime] = field(default_factory=dict)
    shopify_customers: dict[str, datetime] = field(default_factory=dict)
    shopify_orders: dict[str, datetime] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.emails or self.shopify_customers or self.shopify_orders)

    def customer(self, *, email: str = "", shopify_id: str | None = None) -> bool:
        return (email or "").strip().lower() in self.emails or bool(shopify_id) and str(shopify_id) in self.shopify_customers

    def order(self, *, shopify_id: str = "", email: str = "", customer_shopify_id: str | None = None) -> bool:
        return str(shopify_id) in self.shopify_orders or self.customer(email=email, shopify_id=customer_shopify_id)


def tombstone_keys(*, emails=(), shopify_customer_ids=(), shopify_order_ids=()) -> dict[str, tuple[str, str]]:
    """{tombstone key: (kind, normalized identifier)} of these identifiers."""
    wanted: dict[str, tuple[str, str]] = {}
    for kind, values in ((ErasureTombstone.Kind.EMAIL, emails),
                         (ErasureTombstone.Kind.SHOPIFY_CUSTOMER, shopify_customer_ids),
                         (ErasureTombstone.Kind.SHOPIFY_ORDER, shopify_order_ids)):
        for value in values:
            normalized = str(value or "").strip().lower()
            if normalized:
                wanted[pii_key(kind, normalized)] = (kind, normalized)
    return wanted


def tombstone_keys_lock(keys) -> None:
    """Inside a transaction: wait for an erasure of these identifiers that is under way, and hold a new
    one off until commit (a Postgres advisory lock per identifier, taken in a fixed order so two
    writers never wait on each other in a circle). Without it, a write could check the tombstones just
    before an erasure commits and write the person's data just after the erasure read its rows.
    SQLite has one writer at a time: nothing to do."""
    if connection.vendor != "postgresql":
        return
    numbers = sorted({int.from_bytes(bytes.fromhex(key[:16]), "big", signed=True) for key in keys})
    if numbers:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(k) FROM (SELECT unnest(%s::bigint[]) AS k ORDER BY 1) AS s",
                           [numbers])


# The erasure gate, in Postgres' two-int advisory key space ("omni", "gate"), which never overlaps the
# one-bigint space of the per-identifier locks above (https://www.postgresql.org/docs/current/
# explicit-locking.html#ADVISORY-LOCKS). An erasure holds it exclusively from its first statement to its
# commit (erasure_gate_close); a backfill page holds it shared (erasure_gate_share) from before its
# tombstone look-up to its commit.
ERASURE_GATE = (0x6F6D6E69, 0x67617465)


def erasure_gate_share() -> tuple[str, list]:
    """The statement a backfill page runs first in its transaction (tombstones_covering_page): one shared
    advisory lock instead of a lock per identifier
    (750 a page of orders, ~30 ms of the page's time, mostly Postgres' lock manager).

    Why it is enough. Postgres runs each statement of a READ COMMITTED transaction on a new snapshot.
    - The page takes the gate first: an erasure waits at its own first statement for the page's commit,
      then reads the rows the page wrote and erases them.
    - The erasure takes it first: the page waits here until the erasure has committed its tombstones;
      its look-up, the next statement, sees them, so the page writes those rows erased.
    No interleaving is left where the page checks before an erasure commits and writes after it read its
    rows. Pages never wait on each other (shared), and Postgres queues a new shared request behind a
    waiting exclusive one, so a long run of pages cannot starve an erasure: it waits one page at most.
    The one-row paths (webhooks, emails) keep their per-identifier locks (tombstone_keys_lock): they
    do not wait for erasures of other people. SQLite has one writer at a time: it is not run there."""
    return "SELECT pg_advisory_xact_lock_shared(%s, %s)", list(ERASURE_GATE)


def erasure_gate_close() -> None:
    """Inside an erasure's transaction, before it reads anything: wait for the backfill pages under way
    and hold new ones off until commit (see erasure_gate_share). Erasures are rare: they queue on it."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", list(ERASURE_GATE))


def tombstones_covering(*, emails=(), shopify_customer_ids=(), shopify_order_ids=(),
                        lock: bool | str = False) -> Erased:
    """One query for a webhook's or a whole backfill page's identifiers: which of them were erased.
    `lock=True` (a write about to use them, in its transaction) first serializes with erasures of them;
    `lock="page"` (a backfill page) does so through the shared erasure gate (erasure_gate_share)."""
    if lock == "page":
        return tombstones_covering_page(emails=emails, shopify_customer_ids=shopify_customer_ids,
                                        shopify_order_ids=shopify_order_ids)[0]
    wanted = tombstone_keys(emails=emails, shopify_customer_ids=shopify_customer_ids,
                            shopify_order_ids=shopify_order_ids)
    if not wanted:
        return Erased()
    if lock is True:
        tombstone_keys_lock(wanted)
    return _erased(wanted, fetch_together([_look_up(wanted)])[0])


def tombstones_covering_page(*, emails=(), shopify_customer_ids=(), shopify_order_ids=(),
                             also: tuple = ()) -> tuple[Erased, list[list[tuple]]]:
    """`tombstones_covering(lock="page")`, with the page's other reads (`also`: values_list querysets) in
    one round trip (fetch_together): the gate, then the look-up on a snapshot of its own taken after the
    gate was granted (erasure_gate_share says why that suffices), then `also`. -> (tombstones, rows of each)."""
    wanted = tombstone_keys(emails=emails, shopify_customer_ids=shopify_customer_ids,
                            shopify_order_ids=shopify_order_ids)
    gate = [erasure_gate_share()] if connection.vendor == "postgresql" else []  # even if the page names nobody
    look_up = [_look_up(wanted)] if wanted else []
    results = fetch_together([*gate, *look_up, *also])
    found = _erased(wanted, results[len(gate)]) if wanted else Erased()
    return found, results[len(gate) + len(look_up):]


def _look_up(wanted: dict):
    """The tombstones among `wanted`'s keys; on Postgres as one array (not 750 placeholders quoted by Django)."""
    if connection.vendor != "postgresql":
        return ErasureTombstone.objects.filter(key__any=list(wanted)).values_list("key", "erased_at")
    return (f"SELECT key, erased_at FROM {ErasureTombstone._meta.db_table} "  # noqa: S608 - our table
            "WHERE key = ANY(%s::varchar[])", [list(wanted)])


def _erased(wanted: dict[str, tuple[str, str]], rows) -> Erased:
    found = Erased()
    by_kind = {ErasureTombstone.Kind.EMAIL: found.emails, ErasureTombstone.Kind.SHOPIFY_CUSTOMER: found.shopify_customers,
               ErasureTombstone.Kind.SHOPIFY_ORDER: found.shopify_orders}
    for key, erased_at in rows:
        kind, value = wanted[key]
        by_kind[kind][value] = erased_at
    return found


Sender = tuple  # (customer id or None, email, name): whom a text came from


def customers_known_facts_each(*, senders) -> dict[Sender, KnownFacts]:
    """`customer_known_facts` for many senders at once, in three queries rather than two per sender
    (the FAQ proposal refresh scrubs texts of a thousand customers in one go). Same facts, except
    that every order counts (the single read stops at 200)."""
    senders = list(dict.fromkeys((cid, email or "", name or "") for cid, email, name in senders))
    by_id = Customer.objects.in_bulk({cid for cid, _, _ in senders if cid})
    wanted = {email.strip().lower() for cid, email, _ in senders if email and by_id.get(cid) is None}
    by_email: dict[str, Customer] = {}
    for customer in Customer.objects.annotate(lower=Lower("email")).filter(lower__in=wanted).order_by("pk"):
        by_email.setdefault(customer.lower, customer)
    customer_of = {s: by_id.get(s[0]) or by_email.get(s[1].strip().lower()) for s in senders}
    customer_ids = {c.pk for c in customer_of.values() if c is not None}
    all_emails = {s[1].strip().lower() for s in senders if s[1]}
    orders_by_customer: dict[int, list] = {}
    orders_by_email: dict[str, list] = {}
    for row in (Order.objects.annotate(lower=Lower("email"))
                .filter(Q(customer_id__in=customer_ids) | Q(lower__in=all_emails))
                .values_list("customer_id", "lower", "name", "email", "shipping_address", "tracking_numbers", "tracking")):
        if row[0] in customer_ids:
            orders_by_customer.setdefault(row[0], []).append(row)
        if row[1] in all_emails:
            orders_by_email.setdefault(row[1], []).append(row)
    found_each = {}
    for sender in senders:
        _, email, name = sender
        customer, found = customer_of[sender], _Collected()
        found.names.append(name)
        found.emails.append(email)
        orders = list(orders_by_email.get(email.strip().lower(), [])) if email else []
        if customer is not None:
            found.person(customer.name, customer.email, customer.phone, customer.shipping_addresses)
            orders += orders_by_customer.get(customer.pk, [])
        for row in orders:
            found.order(*row[2:])  # past the customer id and the lower-cased email it was grouped by
        found_each[sender] = found.sender_facts()
    return found_each

"""A restored backup is erased again: the erasure ledger replayed into the restored database.

A backup taken before an erasure holds the customer's PII and no tombstone; the ledger in the blob
store (customers/erasure_ledger.py) has the tombstones. `restore_db` sends
`omnichannel.backups.database_restored` with the restored database as the default connection;
`erasure_ledger_replay` then recreates every ledger tombstone missing there (or older there) and runs
the erasure again for each customer and guest order the restored rows still name by an erased address
or Shopify id, before the command returns. Those erasures append their tombstones to the ledger again;
the replay ends by compacting it to one row per key, so restoring the same backup again and again
leaves the ledger as it was (customers/erasure_ledger.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import QuerySet

from customers.erasure_ledger import erasure_ledger_compact, erasure_ledger_read
from customers.models import Customer, ErasureTombstone, Order
from customers.selectors import customer_summary_refresh
from customers.services_erasure import customer_erase
from omnichannel.audit import audit_log_write
from omnichannel.pii import email_unless_erased, pii_key

INTEGRATION = "restore_db"
REPLAY_PAGE = 1000  # rows per keyset page: three short values each, a few hundred kB


@dataclass
class LedgerReplay:
    tombstones_restored: int = 0
    customers_erased: list[int] = field(default_factory=list)
    orders_erased: list[int] = field(default_factory=list)


def erasure_ledger_replay() -> LedgerReplay:
    """In the database just restored (the default connection): bring back the ledger's tombstones and
    erase again whatever rows they name. Idempotent: a second replay finds nothing left to erase and
    leaves the ledger with one row per key."""
    ledger = erasure_ledger_read()
    replay = LedgerReplay()
    if not ledger:
        return replay
    with transaction.atomic():
        present = dict(ErasureTombstone.objects.filter(key__in=list(ledger)).values_list("key", "erased_at"))
        missing = [ErasureTombstone(kind=kind, key=key, erased_at=at) for key, (kind, at) in ledger.items()
                   if key not in present or present[key] < at]
        ErasureTombstone.objects.bulk_create(missing, update_conflicts=True, unique_fields=["key"],
                                             update_fields=["erased_at"])
        replay.tombstones_restored = len(missing)
    # The restored rows are matched by hashing their identifiers (the ledger has only the hashes): one
    # HMAC per customer and order, a few seconds for a few hundred thousand rows, once per restore.
    email_kind, customer_kind, order_kind = (ErasureTombstone.Kind.EMAIL, ErasureTombstone.Kind.SHOPIFY_CUSTOMER,
                                             ErasureTombstone.Kind.SHOPIFY_ORDER)
    for pk, address, shopify_id in _unerased_pages(Customer.objects.all()):
        if (address and pii_key(email_kind, address) in ledger) or \
                (shopify_id and pii_key(customer_kind, shopify_id) in ledger):
            customer_erase(email=address, shopify_id=shopify_id, integration=INTEGRATION)
            replay.customers_erased.append(pk)
    # Guest checkouts (no customer row), erased by their address or by the order itself; read after the
    # customers' erasures, which erased their own orders (a page is read after the erasures before it).
    for pk, address, shopify_id in _unerased_pages(Order.objects.all()):
        if (address and pii_key(email_kind, address) in ledger) or \
                (shopify_id and pii_key(order_kind, shopify_id) in ledger):
            customer_erase(email=address, order_shopify_ids=[shopify_id] if shopify_id else [],
                           integration=INTEGRATION)
            replay.orders_erased.append(pk)
    # The erasures above appended their tombstones to the ledger again: one row per key stays.
    erasure_ledger_compact()
    with transaction.atomic():
        audit_log_write(event_type="erasure.ledger_replayed", integration=INTEGRATION,
                        payload={"tombstones_restored": replay.tombstones_restored,
                                 "customer_ids": replay.customers_erased, "order_ids": replay.orders_erased})
    if replay.customers_erased or replay.orders_erased:
        # The restored materialized view still lists her; the erasure's own refresh may be queued to a
        # worker that serves another database.
        customer_summary_refresh()
    return replay


def _unerased_pages(queryset: QuerySet) -> Iterator[tuple[int, str, str]]:
    """(pk, address or "", Shopify id or "") of the rows not erased yet, read in keyset pages by pk: a
    restored shop's customers and orders never sit in memory at once, and each page is read after the
    erasures of the page before it (which may have erased rows further on)."""
    last = 0
    while True:
        page = list(queryset.filter(is_erased=False, pk__gt=last).order_by("pk")
                    .values_list("pk", "email", "shopify_id")[:REPLAY_PAGE])
        for pk, email, shopify_id in page:
            yield pk, email_unless_erased(email), str(shopify_id or "")
        if len(page) < REPLAY_PAGE:
            return
        last = page[-1][0]


def erasure_ledger_on_restore(sender, **kwargs) -> str:
    """`database_restored` receiver (connected in CustomersConfig.ready): the restore command's output line."""
    replay = erasure_ledger_replay()
    return (f"erasures re-applied: {replay.tombstones_restored} tombstones restored, "
            f"{len(replay.customers_erased)} customers and {len(replay.orders_erased)} orders erased again")

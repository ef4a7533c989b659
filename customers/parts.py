"""The parts the apps above customers play in its work about one person: her erasure, her data-request
export and a guest's open drafts in her summary.

customers sits below catalog, conversations, faq and assistants, so it may not import them (the
layers in pyproject.toml); each of them registers its own part from its AppConfig.ready instead, and
customers calls the parts it was given. The order is declared here, once, so the sequence reads in
one place; a part registered under another name is refused, and an erasure or an export with a
part missing raises rather than leaving a table out (tests/customers/test_parts.py checks every
part is registered).

An erasure (customers/services_erasure.py, `customer_erase`), in one transaction:
1. customers finds her (her rows locked, her identifiers' tombstone keys held);
2. each part's `find`, in ERASURE_ORDER: the rows it must lock or read before anything is blanked
   (conversations: her conversations, locked, and the names her emails were signed with);
3. customers blanks its own rows (customers, orders, raw deliveries, data requests);
4. each part's `erase`, in ERASURE_ORDER, returning its counts (rows per table) for the report;
5. customers writes the tombstones and the audit row.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from django.core.exceptions import ImproperlyConfigured

ERASURE_ORDER = (
    "conversations",  # messages, conversations, drafts (superseded, then blanked), approvals; blobs after commit
    "catalog",  # product requests
    "faq",  # FAQ entries and corrections naming her, proposals built from her conversations
    "assistants",  # model runs of her conversations
)
EXPORT_ORDER = (
    "conversations",  # her conversations with every message (archived ones from their archive)
    "catalog",  # her product requests
)


@dataclass
class Erasure:
    """One erasure under way, as every part sees it."""

    customers: list  # her Customer rows, locked
    emails: list[str]  # her real addresses, lower case
    customer_shopify_ids: set[str]
    acting_user: object = None
    integration: str | None = None
    compact_index: bool = True  # False: the caller compacts the index once (the shop's erasure)
    phones: list[str] = field(default_factory=list)
    names: set[str] = field(default_factory=set)  # the names her rows hold: parts add theirs in `find`
    conversation_ids: list[int] = field(default_factory=list)  # set by the conversations part's `find`

    def mention_names(self) -> list[str]:
        """Her names as free text may quote them (FAQ entries, corrections)."""
        return sorted(n.strip() for n in self.names if n and n.strip())


@dataclass
class Export:
    """One data-request export under way, as every part sees it."""

    customers: list  # her Customer rows
    emails: set[str]  # lower case
    conversation_ids: list[int] = field(default_factory=list)  # set by the conversations part


@dataclass(frozen=True)
class ErasurePart:
    erase: Callable[[Erasure], dict[str, int]]  # writes, in the erasure's transaction; returns its counts
    find: Callable[[Erasure], None] | None = None  # reads and locks, before any part writes


# An export part returns its sections of the document and its counts.
ExportPart = Callable[[Export], tuple[dict[str, list], dict[str, int]]]
GuestOpenDrafts = Callable[[str], list]

_ERASURE: dict[str, ErasurePart] = {}
_EXPORT: dict[str, ExportPart] = {}
_GUEST_OPEN_DRAFTS: list[GuestOpenDrafts] = []


def _known(app: str, order: tuple[str, ...], what: str) -> None:
    if app not in order:
        raise ImproperlyConfigured(f"{app!r} has no place in the customer {what}: add it to customers/parts.py")


def _all(registered: dict, order: tuple[str, ...], what: str) -> list:
    missing = [app for app in order if app not in registered]
    if missing:
        raise ImproperlyConfigured(f"the customer {what} has no part from {', '.join(missing)} (registered in "
                                   f"their AppConfig.ready): it would leave their tables out")
    return [(app, registered[app]) for app in order]


def erasure_part_register(app: str, *, erase: Callable[[Erasure], dict[str, int]],
                          find: Callable[[Erasure], None] | None = None) -> None:
    """An app's part of a customer's erasure (once per app; registering again replaces it)."""
    _known(app, ERASURE_ORDER, "erasure")
    _ERASURE[app] = ErasurePart(erase=erase, find=find)


def erasure_parts() -> list[tuple[str, ErasurePart]]:
    """(app, part) in ERASURE_ORDER; raises if one is missing."""
    return _all(_ERASURE, ERASURE_ORDER, "erasure")


def export_part_register(app: str, export: ExportPart) -> None:
    """An app's sections of a data-request export (once per app; registering again replaces it)."""
    _known(app, EXPORT_ORDER, "data export")
    _EXPORT[app] = export


def export_parts() -> list[tuple[str, ExportPart]]:
    """(app, part) in EXPORT_ORDER; raises if one is missing."""
    return _all(_EXPORT, EXPORT_ORDER, "data export")


def guest_open_drafts_register(reader: GuestOpenDrafts) -> None:
    """The conversations app's reader of a guest's pending drafts (`OpenDraft`s) by her address."""
    _GUEST_OPEN_DRAFTS[:] = [reader]


def guest_open_drafts(email: str) -> list:
    if not _GUEST_OPEN_DRAFTS:
        raise ImproperlyConfigured("no reader of a guest's open drafts is registered (ConversationsConfig.ready)")
    return _GUEST_OPEN_DRAFTS[0](email)

"""Loading the demo shop (fixtures/demo_shop.json) through the domain services.

Idempotent by construction: every record is upserted on its natural key (Shopify id, sku,
message id, FAQ question, correction key), so running it twice gives the same rows.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import nh3
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction
from django.utils.dateparse import parse_date, parse_datetime

from assistants.models import StyleProfile
from catalog.services import InventoryFacts, inventory_item_upsert
from conversations.services.threads import MessageFacts, message_ingest
from customers.services import CustomerFacts, OrderFacts, customer_get_or_create_lead, customer_upsert, order_upsert
from faq.models import FaqEntry
from faq.services import correction_upsert, faq_entry_create
from integrations.demo_accounts import DEMO_USERS
from integrations.models import SiteSnapshot
from integrations.site.crawler import index_snapshot, snapshot_store
from integrations.zoho.ingest import html_to_text
from omnichannel.blobstore import blob_put
from omnichannel.errors import ApplicationError

DEMO_FILE = Path(settings.BASE_DIR) / "fixtures" / "demo_shop.json"
DEMO_SITE_DIR = Path(settings.BASE_DIR) / "fixtures" / "site"  # the shop's own pages, offline
DEMO_SITE_URL = "https://demo-shop.example/pages/"


@dataclass
class SeedReport:
    counts: dict[str, int] = field(default_factory=dict)
    users: dict[str, str] = field(default_factory=dict)

    def add(self, kind: str, n: int = 1) -> None:
        self.counts[kind] = self.counts.get(kind, 0) + n


def _dt(value: str | None) -> datetime | None:
    return parse_datetime(value) if value else None


def _seed_users(report: SeedReport) -> None:
    """The demo accounts, created once. An account that exists keeps its password and its rights: a
    second run (or a real user who happens to be called "admin") is never reset to a published password."""
    user_model = get_user_model()
    for username, (password, group_name, is_superuser) in DEMO_USERS.items():
        user, created = user_model.objects.get_or_create(username=username,
                                                         defaults={"email": f"{username}@demo-shop.example"})
        if not created:
            report.users[username] = "(exists: password kept)"
            continue
        user.is_staff = True
        user.is_superuser = is_superuser
        user.set_password(password)
        user.save()
        if group_name:
            group, _ = Group.objects.get_or_create(name=group_name)
            user.groups.add(group)
        report.users[username] = password


def seed_demo(path: Path = DEMO_FILE) -> SeedReport:
    if settings.PRODUCTION:
        # Demo customers, conversations and accounts with published passwords have no place in a real shop.
        raise ApplicationError("seed_demo refuses to run with DJANGO_PRODUCTION=1: it loads a fictional shop and "
                               "accounts whose passwords are published. Create real users with createsuperuser.")
    data = json.loads(Path(path).read_text())
    report = SeedReport()
    with transaction.atomic():
        _seed_users(report)
        for c in data["customers"]:
            customer_upsert(facts=CustomerFacts(
                shopify_id=c["shopify_id"], email=c["email"], name=c["name"], phone=c.get("phone", ""),
                lifetime_value_cents=c["lifetime_value_cents"], orders_count=c["orders_count"], segment=c["segment"],
                shipping_addresses=c["shipping_addresses"], tags=c.get("tags", ""), source_updated_at=_dt(c["updated_at"]),
            ), integration="demo")
            report.add("customers")
        for i in data["inventory"]:
            inventory_item_upsert(facts=InventoryFacts(
                sku=i["sku"], shopify_id=i["shopify_id"], title=i["title"], quantity_available=i["quantity_available"],
                lead_time_days=i["lead_time_days"], price_cents=i["price_cents"],
            ), integration="demo")
            report.add("inventory")
        for o in data["orders"]:
            order_upsert(facts=OrderFacts(
                shopify_id=o["shopify_id"], name=o["name"], customer_shopify_id=o["customer_shopify_id"],
                email=o["email"], status=o["status"], financial_status=o["financial_status"],
                fulfillment_status=o["fulfillment_status"], tracking=o["tracking"], line_items=o["line_items"],
                refunds=o.get("refunds", []), total_price_cents=o["total_price_cents"],
                placed_at=_dt(o["placed_at"]), cancelled_at=_dt(o.get("cancelled_at")),
                source_updated_at=_dt(o["updated_at"]),
            ), integration="demo")
            report.add("orders")
        for f in data["faq"]:
            if not FaqEntry.objects.filter(question=f["question"]).exists():
                faq_entry_create(question=f["question"], answer=f["answer"], source_intent=f["source_intent"],
                                 status=f["status"])
            report.add("faq")
        for c in data["corrections"]:
            correction_upsert(key=c["key"], pattern=c["pattern"], answer=c["answer"], sources=c["sources"],
                              last_verified=parse_date(c["last_verified"]))
            report.add("corrections")
        profile = data["style_profile"]
        StyleProfile.objects.update_or_create(is_brand_default=True, defaults={
            "name": profile["name"], "tone_config": profile["tone_config"]})
        own = settings.ZOHO_OWN_ADDRESSES[0] if settings.ZOHO_OWN_ADDRESSES else "support@demo-shop.example"
        for conversation in data["conversations"]:
            for m in conversation["messages"]:
                direction = m.get("direction", "inbound")
                customer = None
                if direction == "inbound":
                    customer, _ = customer_get_or_create_lead(email=m["from"], name=m.get("from_name", ""),
                                                              integration="demo")
                message_ingest(facts=MessageFacts(
                    channel="email", direction=direction, external_msg_id=m["id"],
                    external_thread_id=conversation["thread"], rfc_message_id=m["rfc_id"],
                    in_reply_to=m.get("in_reply_to", ""), references=m.get("in_reply_to", ""),
                    from_address=m["from"], from_name=m.get("from_name", ""),
                    to_addresses=[own] if direction == "inbound" else [m["from"]],
                    subject=m["subject"], body=m["body"] or html_to_text(m.get("html", "")),
                    body_html=nh3.clean(m.get("html", "")), sent_at=_dt(m["sent_at"]), attachments=_demo_attachments(m),
                    raw_payload={"demo": True, "messageId": m["id"]},
                ), customer=customer, integration="demo")
                report.add("messages")
    _seed_site_pages(report)  # after the commit: Chroma is never called inside a transaction
    return report


DEMO_ATTACHMENTS_DIR = Path(settings.BASE_DIR) / "fixtures" / "demo_attachments"


def _demo_attachments(message: dict) -> list[dict]:
    """The demo's attachments in the blob store, listed as Zoho ingest lists them."""
    found = []
    for name in message.get("attachments", []):
        data = (DEMO_ATTACHMENTS_DIR / name).read_bytes()
        stored = blob_put(data, prefix="attachments")
        found.append({"name": name, "content_type": "image/jpeg" if name.endswith(".jpg") else "application/octet-stream",
                      "size": len(data), "blob_key": stored.key})
    return found


def _seed_site_pages(report: SeedReport) -> None:
    """The demo site's pages as `ingest_site` would keep them (snapshot, blob, chunks), without HTTP.
    Re-indexed every run (stable chunk ids): the collection of the current embedding backend gets them."""
    for page in sorted(DEMO_SITE_DIR.glob("*.html")):
        content, url = page.read_bytes(), DEMO_SITE_URL + page.stem
        digest = hashlib.sha256(content).hexdigest()
        snapshot = SiteSnapshot.objects.filter(url=url, sha256=digest, status=SiteSnapshot.Status.OK).first()
        if snapshot is None:
            snapshot_store(url, content, content.decode(), content_type="text/html", sha256=digest)
        else:  # kept already: indexed again for the collection of the current embedding backend
            SiteSnapshot.objects.filter(pk=snapshot.pk).update(chunk_count=index_snapshot(snapshot, content.decode()))
        report.add("site pages")

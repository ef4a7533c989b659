"""One open FAQ entry per question, enforced by the database.

`question_key` is the question as compared for duplicates (case, spacing and trailing punctuation do not
count); a partial unique index on it, archived entries aside, refuses a second entry even when two
requests passed the service's check at once.

Entries that already ask the same question are settled here: the published one (else the oldest) stays,
the others are archived, each with a `faq.archived` audit row naming the entry kept. Nothing is deleted;
Ops find them under the Archived filter. An archived entry that was published leaves the shop's page at
its next rebuild: the migration names them, and `manage.py publish_faq` rebuilds the page at once.
"""

from django.db import migrations, models

_TRAILING_PUNCTUATION = " ?？¿!！.。…:;,·-"


def _key(question: str) -> str:
    # A frozen copy of faq.models.faq_question_key as of this migration.
    return " ".join(question.casefold().split()).rstrip(_TRAILING_PUNCTUATION).rstrip()


def fill_keys_and_archive_duplicates(apps, schema_editor):
    FaqEntry = apps.get_model("faq", "FaqEntry")
    AuditLog = apps.get_model("omnichannel", "AuditLog")
    kept: dict[str, int] = {}
    # Published first, then the oldest: that one stays, the others asking the same question are archived.
    for entry in sorted(FaqEntry.objects.all(), key=lambda e: (e.status != "published", e.pk)):
        key = _key(entry.question)
        fields = {"question_key": key}
        if key and entry.status != "archived":
            if key in kept:
                if entry.status == "published":
                    print(f"\n  FAQ entry {entry.pk} archived (FAQ entry {kept[key]} asks its question): "
                          "run `manage.py publish_faq` to take it off the shop's page now.")
                fields.update(status="archived", published_at=None)
                AuditLog.objects.create(event_type="faq.archived", actor="system", object_type="faq.faqentry",
                                        object_id=str(entry.pk),
                                        payload={"status": "archived", "reason": "duplicate question",
                                                 "duplicate_of": kept[key], "was": entry.status})
            else:
                kept[key] = entry.pk
        FaqEntry.objects.filter(pk=entry.pk).update(**fields)


class Migration(migrations.Migration):

    dependencies = [
        ("faq", "0003_faq_proposals"),
        ("omnichannel", "0005_webhook_delivery_lease"),
    ]

    operations = [
        migrations.AddField(
            model_name="faqentry",
            name="question_key",
            field=models.CharField(blank=True, default="", editable=False, max_length=500),
            preserve_default=False,
        ),
        migrations.RunPython(fill_keys_and_archive_duplicates, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="faqentry",
            constraint=models.UniqueConstraint(
                condition=models.Q(("status", "archived"), _negated=True) & models.Q(("question_key", ""), _negated=True),
                fields=("question_key",), name="faq_question_unique_open",
                violation_error_message="An FAQ entry already asks this question."),
        ),
    ]

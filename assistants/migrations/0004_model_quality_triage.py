"""The model_quality_triage read model: inbound emails per ISO week, channel and triage label.

Beside model_quality (drafts), so nothing triage sets apart is dropped silently: one row per ISO
week (the Monday, UTC, of the email's arrival), channel and label (customer, auto_reply, bounce,
spam, privacy_request) with the number of emails. Messages not triaged yet are left out. A plain
view like model_quality, read by `assistants.model_quality.model_quality_triage_list`.
"""

from django.db import migrations

_SELECT = """
CREATE VIEW model_quality_triage AS
SELECT {week} AS week,
       cv.channel AS channel,
       m.triage_label AS label,
       count(*) AS emails
FROM messages m
JOIN conversations cv ON cv.id = m.conversation_id
WHERE m.direction = 'inbound' AND m.triage_label <> ''
GROUP BY 1, 2, 3
"""

POSTGRES = _SELECT.format(week="(date_trunc('week', m.sent_at AT TIME ZONE 'UTC'))::date")
# As in 0003: SQLite keeps datetimes as UTC text; 'weekday 0' is the coming Sunday, -6 days its Monday.
SQLITE = _SELECT.format(week="date(m.sent_at, 'weekday 0', '-6 days')")


def create(apps, schema_editor):
    schema_editor.execute(POSTGRES if schema_editor.connection.vendor == "postgresql" else SQLITE)


def drop(apps, schema_editor):
    schema_editor.execute("DROP VIEW IF EXISTS model_quality_triage")


class Migration(migrations.Migration):
    dependencies = [("assistants", "0003_model_quality"), ("conversations", "0008_message_triage")]
    operations = [migrations.RunPython(create, drop)]

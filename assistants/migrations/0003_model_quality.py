"""The model_quality read model: a plain SQL view (Postgres and SQLite alike).

One row per ISO week (the Monday, UTC, of the draft's creation), channel and confidence bucket
(low < 0.5 <= medium < 0.8 <= high, as the admin's queue filter): how many drafts, what their
model runs cost (tokens, USD, latency) and what agents decided. Only additive columns (counts and
sums), so a reader may add rows up across weeks or buckets; rates and means are derived by
`assistants.model_quality.model_quality_list`.

Edit size is the number of changed lines of the approval's unified diff (`+`/`-` lines, without
the two `---`/`+++` headers), counted as occurrences of newline+`+` / newline+`-`. An edit whose
diff is empty (identical text, or blanked by a PII erasure) is left out of the edit-size sums.
A plain view rather than a materialized one: it is read rarely (a weekly report) and must never be stale.
"""

from django.db import migrations

_SELECT = """
CREATE VIEW model_quality AS
SELECT {week} AS week,
       cv.channel AS channel,
       CASE WHEN d.confidence < 0.5 THEN 'low' WHEN d.confidence < 0.8 THEN 'medium' ELSE 'high' END
         AS confidence_bucket,
       count(*) AS drafts,
       count(mr.id) AS model_runs,
       COALESCE(sum(mr.tokens_in), 0) AS tokens_in,
       COALESCE(sum(mr.tokens_out), 0) AS tokens_out,
       COALESCE(sum(mr.cost_usd), 0) AS cost_usd,
       COALESCE(sum(mr.latency_ms), 0) AS latency_ms_sum,
       count(a.id) AS decided,
       sum(CASE WHEN a.action = 'approve' THEN 1 ELSE 0 END) AS approved,
       sum(CASE WHEN a.action = 'edit' THEN 1 ELSE 0 END) AS edited,
       sum(CASE WHEN a.action = 'reject' THEN 1 ELSE 0 END) AS rejected,
       sum(CASE WHEN a.action = 'edit' AND a.diff <> '' THEN 1 ELSE 0 END) AS edits_measured,
       COALESCE(sum(CASE WHEN a.action = 'edit' AND a.diff <> '' THEN
         (length({nl} || a.diff) - length(replace({nl} || a.diff, {nl} || '+', ''))
          + length({nl} || a.diff) - length(replace({nl} || a.diff, {nl} || '-', ''))) / 2 - 2
       END), 0) AS edit_lines_sum
FROM drafts d
JOIN conversations cv ON cv.id = d.conversation_id
LEFT JOIN model_runs mr ON mr.id = d.model_run_id
LEFT JOIN approvals a ON a.draft_id = d.id
GROUP BY 1, 2, 3
"""

POSTGRES = _SELECT.format(week="(date_trunc('week', d.created_at AT TIME ZONE 'UTC'))::date", nl="chr(10)")
# SQLite keeps datetimes as UTC text; 'weekday 0' moves to the coming Sunday (or stays), -6 days is its Monday.
SQLITE = _SELECT.format(week="date(d.created_at, 'weekday 0', '-6 days')", nl="char(10)")


def create(apps, schema_editor):
    schema_editor.execute(POSTGRES if schema_editor.connection.vendor == "postgresql" else SQLITE)


def drop(apps, schema_editor):
    schema_editor.execute("DROP VIEW IF EXISTS model_quality")


class Migration(migrations.Migration):
    dependencies = [("assistants", "0002_initial"), ("conversations", "0004_draft_sending_claim")]
    operations = [migrations.RunPython(create, drop)]

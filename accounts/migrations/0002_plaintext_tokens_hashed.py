"""DRF's authtoken table held tokens in plain text: each becomes a digest here (it keeps working until
API_TOKEN_TTL_DAYS from now), then the table is dropped. rest_framework.authtoken is no longer
installed, so its table is read with plain SQL, where it exists at all (a new database never had it),
and its migration records go too (were the app installed again, it would make its table anew)."""

import hashlib
from datetime import timedelta

from django.conf import settings
from django.db import migrations
from django.utils import timezone


def plaintext_tokens_hashed(apps, schema_editor):
    connection = schema_editor.connection
    if "authtoken_token" not in connection.introspection.table_names():
        return
    api_token = apps.get_model("accounts", "ApiToken")
    expires_at = timezone.now() + timedelta(days=settings.API_TOKEN_TTL_DAYS)
    with connection.cursor() as cursor:
        cursor.execute("SELECT key, user_id FROM authtoken_token")
        rows = cursor.fetchall()
        api_token.objects.bulk_create([
            api_token(user_id=user_id, name="moved from a plain-text token", prefix=key[:8],
                      digest=hashlib.sha256(key.encode()).hexdigest(), expires_at=expires_at)
            for key, user_id in rows], ignore_conflicts=True)
    schema_editor.execute("DROP TABLE authtoken_token")  # its foreign key to auth_user goes with it
    schema_editor.execute("DELETE FROM django_migrations WHERE app = 'authtoken'")


class Migration(migrations.Migration):
    dependencies = [("accounts", "0001_api_tokens")]

    operations = [migrations.RunPython(plaintext_tokens_hashed, migrations.RunPython.noop)]

from django.db import migrations

from omnichannel.append_only import install_trigger_operation


class Migration(migrations.Migration):
    dependencies = [("conversations", "0001_initial"), ("omnichannel", "0002_audit_log_append_only")]
    operations = [install_trigger_operation("approvals")]

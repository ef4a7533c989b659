from django.db import migrations

from omnichannel.append_only import install_trigger_operation


class Migration(migrations.Migration):
    dependencies = [("omnichannel", "0001_initial")]
    operations = [install_trigger_operation("audit_log")]

from django.db import migrations, models
import django.db.models.deletion


class Migration(migrations.Migration):

    dependencies = [
        ('conversations', '0008_message_triage'),
    ]

    operations = [
        migrations.AddField(
            model_name='conversation',
            name='claimed_reply_to',
            field=models.ForeignKey(blank=True, help_text="The conversation this one's first email claimed to answer (In-Reply-To, References or Zoho's thread) although its sender takes no part in it: kept apart, shown on the review page", null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='conversations.conversation'),
        ),
    ]

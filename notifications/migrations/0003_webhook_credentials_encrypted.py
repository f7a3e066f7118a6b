"""Webhook URLs saved with credentials in their query string move to the encrypted column; the
target keeps them redacted."""

from django.db import migrations


def encrypt_credentials(apps, schema_editor):
    from nestops.url_credentials import credential_keys, redact_url

    channels = apps.get_model("notifications", "NotificationChannel")
    for channel in channels.objects.filter(kind="webhook", target_secret=""):
        if credential_keys(channel.target):
            channel.target_secret = channel.target
            channel.target = redact_url(channel.target)
            channel.save(update_fields=["target", "target_secret"])


class Migration(migrations.Migration):
    dependencies = [
        ("notifications", "0002_webhook_target_secret"),
    ]

    operations = [migrations.RunPython(encrypt_credentials, migrations.RunPython.noop)]

from django.db import migrations, models


def from_builds(apps, schema_editor):
    """Images recorded before the field existed take the commit their build remembered."""
    WebUIImage = apps.get_model("images", "WebUIImage")
    for image in WebUIImage.objects.filter(webui_commit="", build__isnull=False).select_related(
        "build"
    ):
        commit = str((image.build.state or {}).get("webui_commit") or "")[:64]
        if commit:
            image.webui_commit = commit
            image.save(update_fields=["webui_commit"])


class Migration(migrations.Migration):
    dependencies = [
        ("images", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="webuiimage",
            name="webui_commit",
            field=models.CharField(blank=True, max_length=64, verbose_name="WebUI commit"),
        ),
        migrations.RunPython(from_builds, migrations.RunPython.noop),
    ]

"""The canonical 21-badge catalogue (docs/api.md#badges, [F9]) as data."""

from django.db import migrations

from gamification.catalogue import BADGES


def create_catalogue(apps, schema_editor):
    from gamification.catalogue import ensure_catalogue

    ensure_catalogue(apps.get_model("gamification", "Badge"))


def delete_catalogue(apps, schema_editor):
    Badge = apps.get_model("gamification", "Badge")
    Badge.objects.filter(code__in=[row[0] for row in BADGES]).delete()


class Migration(migrations.Migration):
    dependencies = [("gamification", "0001_initial")]

    operations = [migrations.RunPython(create_catalogue, delete_catalogue)]

"""Abstract bases shared by every app's models."""

from django.db import models

from guelaguetza.ids import ID_MAX_LENGTH, new_id


def IdField() -> models.CharField:
    """String primary key, cuid-like (docs/api.md#ids): never an integer, never required format."""
    return models.CharField(
        primary_key=True, max_length=ID_MAX_LENGTH, default=new_id, editable=False
    )


class TimestampedModel(models.Model):
    id = IdField()
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True

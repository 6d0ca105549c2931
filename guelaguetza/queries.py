"""Query expressions shared by the apps' selectors."""

from __future__ import annotations

from django.db.models import Count, IntegerField, Model, OuterRef, Subquery
from django.db.models.functions import Coalesce


def related_count(model: type[Model], fk: str) -> Coalesce:
    """COUNT(*) of ``model`` rows whose ``fk`` points at the outer row, as a correlated
    subquery (0 when none). Per row of a page, so the cost follows the page, not the
    table; and two of them on one queryset do not multiply each other, as two joined
    Counts would."""
    rows = (
        model.objects.filter(**{fk: OuterRef("pk")})
        .order_by()
        .values(fk)
        .annotate(n=Count("*"))
        .values("n")
    )
    return Coalesce(Subquery(rows, output_field=IntegerField()), 0)

"""Receivers derived from the families' ``shows`` declarations (docs/cache.md).

Nobody writes an invalidation receiver by hand: for every model that some family shows,
:func:`connect` wires ``post_save`` and ``post_delete``, and a save clears the values
that show what it changed, after commit (the cache layer defers to on_commit): every
declaration whose fields the save wrote (``update_fields``; all of them for a full save,
a new or a deleted row) has its ``clears`` invalidated for the entity ids it names.

``QuerySet.update()`` and ``bulk_*`` fire no signal: the services that use them call
``cache.cascade`` (registry.CASCADES) and say why.
"""

from __future__ import annotations

import functools
from collections import defaultdict

from django.apps import AppConfig, apps
from django.db.models import Model
from django.db.models.signals import post_delete, post_save
from django.utils.module_loading import import_string

from guelaguetza.cache.registry import ANY, DELETED, FAMILIES, Shows
from guelaguetza.cache.service import cache


@functools.cache
def declarations() -> dict[str, tuple[tuple[str, Shows], ...]]:
    """``{"app_label.Model": ((family name, Shows), ...)}`` over every family."""
    out: dict[str, list[tuple[str, Shows]]] = defaultdict(list)
    for family in FAMILIES.values():
        for shows in family.shows:
            out[shows.model].append((family.name, shows))
    return {label: tuple(entries) for label, entries in out.items()}


@functools.cache
def tracked_fields(label: str) -> dict[str, str]:
    """``{field name: attname}`` of the fields of ``label`` some family shows."""
    model = apps.get_model(label)
    names = {f for _, s in declarations()[label] for f in s.fields if f not in (*ANY, *DELETED)}
    return {name: model._meta.get_field(name).attname for name in sorted(names)}


def changed_fields(label: str, *, created: bool, update_fields=None) -> set[str]:
    """What a save may have changed, as the declarations name it: every field of a new
    row (and ``*``), else the saved fields (``update_fields``, or all of them). A save
    is taken at its word, not compared with the database: a row changed behind the
    signals' back (``update()``) is then cleared by its next save, as it should be."""
    tracked = tracked_fields(label)
    if created:
        return {*ANY, *tracked}
    if update_fields is None:
        return {"~", *tracked}
    return {"~", *(set(update_fields) & set(tracked))}


def _after_save(sender, instance, created=False, update_fields=None, **kwargs) -> None:
    label = sender._meta.label
    _clear(label, instance, changed_fields(label, created=created, update_fields=update_fields))


def _after_delete(sender, instance, **kwargs) -> None:
    label = sender._meta.label
    _clear(label, instance, {*ANY, *DELETED, *tracked_fields(label)})


def _clear(label: str, instance: Model, changed: set[str]) -> None:
    if not changed:
        return
    for _, shows in declarations()[label]:
        if changed.isdisjoint(shows.fields):
            continue
        if shows.locate:
            for pattern in import_string(shows.locate)(instance=instance):
                cache.invalidate(pattern)
            continue
        for entity_id in _entity_ids(shows, instance):
            for template in shows.clears:
                target = template.format(id=entity_id)
                if target.endswith(":*"):
                    cache.invalidate(target)
                else:
                    cache.delete(target)


def _entity_ids(shows: Shows, instance: Model) -> list:
    if shows.lookup:
        model = apps.get_model(shows.entity_model)
        rows = model._base_manager.filter(**{shows.lookup: instance.pk})
        return list(rows.values_list("pk", flat=True).distinct())
    value = getattr(instance, shows.fk)
    return [] if value is None else [value]


def connect(app: AppConfig) -> None:
    """Wire the derived receivers of every model of ``app`` that a family shows (called
    from the app's ``ready()``, so its apps.py still shows all of its wiring)."""
    for label in declarations():
        model = apps.get_model(label)
        if model._meta.app_config is not app:
            continue
        # The project's dispatch_uid convention: "<module>.<receiver>[.<sender>]".
        uid = f"{__name__}.{{}}.{label}"
        post_save.connect(_after_save, sender=model, dispatch_uid=uid.format("_after_save"))
        post_delete.connect(_after_delete, sender=model, dispatch_uid=uid.format("_after_delete"))

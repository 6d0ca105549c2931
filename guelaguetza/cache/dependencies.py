"""Receivers derived from the families' ``shows`` declarations (docs/cache.md).

Nobody writes an invalidation receiver by hand: for every model that some family shows,
:func:`connect` wires three receivers, and a save clears exactly the values that show
what it changed, after commit (the cache layer defers every invalidation to on_commit):

* ``pre_save`` reads the row's declared fields as they are in the database (one query,
  writes are rare), so ``post_save`` knows which of them the save really changed;
* ``post_save`` / ``post_delete`` run every declaration whose fields changed (a created
  or deleted row changes all of them) and invalidate its ``clears`` for the entity ids
  it names.

``QuerySet.update()`` and ``bulk_*`` fire no signal: the services that use them call
``cache.cascade`` (registry.CASCADES) and say why.
"""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Iterable

from django.apps import AppConfig, apps
from django.db.models import Model
from django.db.models.signals import post_delete, post_save, pre_save
from django.utils.module_loading import import_string

from guelaguetza.cache.registry import ALL, DELETED, FAMILIES, Shows
from guelaguetza.cache.service import cache

_OLD = "_cache_shown_before"


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
    names = {f for _, s in declarations()[label] for f in s.fields if f not in (*ALL, *DELETED)}
    return {name: model._meta.get_field(name).attname for name in sorted(names)}


def changed_fields(instance: Model, old: dict | None, fields: Iterable[str]) -> set[str]:
    """Which of ``fields`` (names) differ between ``instance`` and ``old`` (attname ->
    value as read before the save); every one of them when there is no ``old``."""
    attnames = tracked_fields(instance._meta.label)
    if old is None:
        return set(fields)
    return {
        f
        for f in fields
        if attnames[f] in old and getattr(instance, attnames[f]) != old[attnames[f]]
    }


def _before_save(sender, instance, raw=False, update_fields=None, **kwargs) -> None:
    attnames = tracked_fields(sender._meta.label)
    names = set(attnames) if update_fields is None else set(attnames) & set(update_fields)
    old = None  # unknown: a new row, or one we could not read
    if not instance._state.adding and instance.pk is not None:
        if not names:
            old = {}  # the save writes no field any family shows
        else:
            columns = [attnames[n] for n in sorted(names)]
            old = sender._base_manager.filter(pk=instance.pk).values(*columns).first()
    setattr(instance, _OLD, old)


def _after_save(sender, instance, created=False, raw=False, **kwargs) -> None:
    label = sender._meta.label
    old = None if created else getattr(instance, _OLD, None)
    if old is None:
        changed = {*ALL, *tracked_fields(label)}
    else:
        changed = changed_fields(instance, old, tracked_fields(label))
    _clear(label, instance, changed, old)


def _after_delete(sender, instance, **kwargs) -> None:
    label = sender._meta.label
    _clear(label, instance, {*ALL, *DELETED, *tracked_fields(label)}, None)


def _clear(label: str, instance: Model, changed: set[str], old: dict | None) -> None:
    if not changed:
        return
    for _, shows in declarations()[label]:
        if changed.isdisjoint(shows.fields):
            continue
        if shows.locate:
            for pattern in import_string(shows.locate)(instance=instance, old=old):
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
        uid = f"cache.dependencies.{label}"
        pre_save.connect(_before_save, sender=model, dispatch_uid=f"{uid}.pre_save")
        post_save.connect(_after_save, sender=model, dispatch_uid=f"{uid}.post_save")
        post_delete.connect(_after_delete, sender=model, dispatch_uid=f"{uid}.post_delete")

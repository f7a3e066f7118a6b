"""Data survives the move of models into their own apps (accounts, notifications, hostfiles,
metrics, autostop, budgets).

The database is taken back to the layout before the move (the leaves just before the
state-only migrations), a row is written in every table of that layout through the historical
models, then the database is migrated to the latest layout: every row must still be there, the
content types must carry the new app labels, and an admin history entry must still lead to
its object.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.apps.registry import Apps
from django.contrib.admin.models import ADDITION, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db import connection, models
from django.db.migrations.executor import MigrationExecutor

from accounts.models import Team

# The layout before the move: the leaves just before the state-only migrations.
BEFORE = {
    "nestops": "0004_audit_source_tokens",
    "instances": "0003_metrics",
    "operations": "0003_idle_policy_and_schedules",
    "billing": "0001_initial",
}
NEW_APPS = ("accounts", "notifications", "hostfiles", "metrics", "autostop", "budgets")
# Apps that came after the move: not installed in the old layout at all.
LATER_APPS = ("webgateway", "images", "cloudaccount")
MOMENT = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)

Rows = dict[str, list[tuple[Any, ...]]]


def _targets_before(executor: MigrationExecutor) -> list[tuple[str, str | None]]:
    leaves = executor.loader.graph.leaf_nodes()
    gone = (*NEW_APPS, *LATER_APPS)
    return [(app, BEFORE.get(app, name)) for app, name in leaves if app not in gone] + [
        (app, None) for app in gone
    ]


def _migrate(targets: list[tuple[str, str | None]]) -> MigrationExecutor:
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    executor.loader.build_graph()  # what is applied changed
    return executor


def _value(field: models.Field, model: type[models.Model]) -> Any:
    """A value a required field accepts, recognisable in the table."""
    if field.choices:
        return field.choices[0][0]
    kind = field.get_internal_type()
    if kind in ("CharField", "SlugField", "TextField", "EmailField", "URLField"):
        text = f"{model._meta.model_name}-{field.name}".replace("_", "-")
        return text[: field.max_length] if field.max_length else text
    if kind == "GenericIPAddressField":
        return "192.0.2.7"
    if kind in ("BooleanField",):
        return True
    if kind.endswith("IntegerField"):
        return 7
    if kind == "FloatField":
        return 12.5
    if kind == "DecimalField":
        return Decimal("12.5")
    if kind == "DateTimeField":
        return MOMENT
    if kind == "DateField":
        return MOMENT.date()
    if kind == "TimeField":
        return time(9, 30)
    if kind == "DurationField":
        return timedelta(minutes=5)
    if kind == "JSONField":
        return {"kept": True}
    if kind == "UUIDField":
        return uuid.uuid4()
    if kind == "BinaryField":
        return b"kept"
    raise AssertionError(f"no value for {model._meta.label}.{field.name} ({kind})")


def _fields(model: type[models.Model], made: dict[str, models.Model]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for field in model._meta.concrete_fields:
        if isinstance(field, models.AutoField):
            continue
        if field.is_relation:
            target = made.get(field.related_model._meta.label)
            assert target is not None or field.null, f"{model._meta.label}.{field.name}"
            values[field.name] = target
        elif not field.has_default() and not getattr(field, "auto_now_add", False):
            values[field.name] = _value(field, model)
    return values


def _in_dependency_order(
    all_models: list[type[models.Model]], *, made: list[type[models.Model]]
) -> list[type[models.Model]]:
    """``all_models`` each after the models it refers to (``made`` exist already)."""
    ordered: list[type[models.Model]] = []
    waiting = list(all_models)
    while waiting:
        ready = [
            m
            for m in waiting
            if all(
                f.related_model is m or f.related_model in ordered or f.related_model in made
                for f in m._meta.concrete_fields
                if f.is_relation
            )
        ]
        assert ready, f"a cycle among {[m._meta.label for m in waiting]}"
        ordered += ready
        waiting = [m for m in waiting if m not in ready]
    return ordered


# Rows whose required values the generic ones would not satisfy.
SPECIAL: dict[str, dict[str, Any]] = {
    "auth.User": {"username": "survivor", "password": "!"},
    "auth.Group": {"name": "survivors"},
    "auth.Permission": {"codename": "survive_the_move", "name": "Can survive the move"},
    "django_celery_beat.CrontabSchedule": {"timezone": "UTC"},
    "django_celery_beat.PeriodicTask": {"name": "survivor", "task": "nestops.noop"},
    "sessions.Session": {"session_key": "survivor-session"},
}


def _fill(old: Apps) -> dict[str, models.Model]:
    """One row in every table of the old layout (content types for every model of it)."""
    content_type_model = old.get_model("contenttypes", "ContentType")
    everything = old.get_models(include_auto_created=True)
    for model in old.get_models():
        content_type_model.objects.get_or_create(
            app_label=model._meta.app_label, model=model._meta.model_name
        )
    team_type = content_type_model.objects.get(app_label="nestops", model="team")
    made: dict[str, models.Model] = {"contenttypes.ContentType": team_type}
    others = [m for m in everything if m is not content_type_model]
    for model in _in_dependency_order(others, made=[content_type_model]):
        label = model._meta.label
        values = {**_fields(model, made), **SPECIAL.get(label, {})}
        if label == "auth.Permission":
            values["content_type"] = team_type
        if label == "admin.LogEntry":
            values.update(
                content_type=team_type,
                object_id=str(made["nestops.Team"].pk),
                object_repr="team-name",
                action_flag=ADDITION,
                change_message="[]",
            )
        made[label] = model.objects.create(**values)
    return made


def _rows(tables: list[str], columns: dict[str, list[str]] | None = None) -> Rows:
    """Every row of each table; with ``columns``, only those columns (a later migration may
    add columns to a table: what was there before must still be there)."""
    found: Rows = {}
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        for table in tables:
            chosen = ", ".join(quote(c) for c in columns[table]) if columns else "*"
            cursor.execute(f"SELECT {chosen} FROM {quote(table)} ORDER BY 1")
            found[table] = [tuple(row) for row in cursor.fetchall()]
    return found


def _columns(tables: list[str]) -> dict[str, list[str]]:
    with connection.cursor() as cursor:
        return {
            table: [c.name for c in connection.introspection.get_table_description(cursor, table)]
            for table in tables
        }


def _tables(apps: Apps) -> dict[str, tuple[str, str]]:
    """Each table of a layout, and the app label and model name of its model."""
    return {
        m._meta.db_table: (m._meta.app_label, m._meta.model_name)
        for m in apps.get_models(include_auto_created=True)
        if m._meta.managed and not m._meta.proxy
    }


@pytest.mark.django_db(transaction=True)
def test_every_row_survives_the_move_of_models_into_their_apps() -> None:
    executor = MigrationExecutor(connection)
    latest = executor.loader.graph.leaf_nodes()
    before = _targets_before(executor)
    try:
        executor = _migrate(before)
        old_apps = executor.loader.project_state([t for t in before if t[1]]).apps
        old_tables = _tables(old_apps)
        made = _fill(old_apps)
        rows_before = _rows(sorted(old_tables))
        old_columns = _columns(sorted(old_tables))

        executor = _migrate(latest)
        new_tables = _tables(executor.loader.project_state(latest).apps)
        assert set(old_tables) <= set(new_tables)  # later migrations may add tables
        rows_after = _rows(sorted(old_tables), old_columns)
    finally:
        _migrate(latest)
        ContentType.objects.clear_cache()

    for table, rows in rows_before.items():
        assert rows, f"{table} was left empty: the test must fill every table"
        if table != "django_content_type":
            assert rows_after[table] == rows, table
    # Content types follow their models to the new apps; the rows keep their ids.
    moved = {old_tables[t]: new_tables[t][0] for t in old_tables if new_tables[t] != old_tables[t]}
    assert set(moved.values()) == set(NEW_APPS)
    relabelled = [
        (pk, moved.get((app, model), app), model)
        for pk, app, model in rows_before["django_content_type"]
    ]
    assert rows_after["django_content_type"] == relabelled

    entry = LogEntry.objects.get(pk=made["admin.LogEntry"].pk)
    assert entry.content_type.app_label == "accounts"
    assert entry.content_type.model_class() is Team
    team = entry.get_edited_object()
    assert isinstance(team, Team) and team.pk == made["nestops.Team"].pk
    assert team.name == "team-name"

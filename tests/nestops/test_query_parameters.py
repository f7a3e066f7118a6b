"""Query parameters are checked as the schema describes them: a bad value is a 400 naming it."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from instances.models import Status
from operations.models import Kind, Operation
from tests.factories import make_instance

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/api/v1/instances/?include_deleted=175355948183", "include_deleted"),
        ("/api/v1/instances/?page_size=null", "page_size"),
        ("/api/v1/instances/?page_size=0", "page_size"),
        ("/api/v1/instances/?page_size=201", "page_size"),
        ("/api/v1/instances/?status=sleeping", "status"),
        ("/api/v1/operations/?since=yesterday", "since"),
        ("/api/v1/operations/?until=2026-13-01", "until"),
    ],
)
def test_a_bad_value_is_a_400_naming_the_parameter(as_alice, path, field) -> None:
    response = as_alice.get(path)
    assert response.status_code == 400, response.content
    assert response.json()["code"] == "invalid"
    assert field in response.json()["details"]


def test_deleted_instances_are_listed_only_when_asked(as_alice, team) -> None:
    make_instance(team, name="kept", status=Status.RUNNING)
    make_instance(team, name="gone", status=Status.DELETED)

    def names(query: str) -> set[str]:
        return {row["name"] for row in as_alice.get(f"/api/v1/instances/{query}").json()["results"]}

    assert names("") == {"kept"}
    assert names("?include_deleted=true") == {"kept", "gone"}
    assert names("?include_deleted=false") == {"kept"}
    assert names("?status=deleted") == {"gone"}
    assert len(as_alice.get("/api/v1/instances/?page_size=1").json()["results"]) == 1


def test_operations_since_and_until_take_a_day_or_a_time(as_alice, team) -> None:
    instance = make_instance(team, status=Status.RUNNING)
    moments = {
        "nov-30": datetime(2026, 11, 30, 23, 0, tzinfo=UTC),
        "dec-01-morning": datetime(2026, 12, 1, 8, 0, tzinfo=UTC),
        "dec-01-evening": datetime(2026, 12, 1, 20, 0, tzinfo=UTC),
        "dec-02": datetime(2026, 12, 2, 1, 0, tzinfo=UTC),
    }
    ids = {}
    for name, moment in moments.items():
        operation = Operation.objects.create(
            instance=instance, team=team, kind=Kind.STOP, source="api", status="succeeded"
        )
        Operation.objects.filter(pk=operation.pk).update(created_at=moment)
        ids[operation.public_id] = name

    def names(query: str) -> set[str]:
        response = as_alice.get(f"/api/v1/operations/?{query}")
        assert response.status_code == 200, response.content
        return {ids[row["id"]] for row in response.json()["results"]}

    # A day counts whole: from its start, or up to its end.
    assert names("since=2026-12-01") == {"dec-01-morning", "dec-01-evening", "dec-02"}
    assert names("until=2026-12-01") == {"nov-30", "dec-01-morning", "dec-01-evening"}
    # A time is exact.
    assert names("until=2026-12-01T09:00:00Z") == {"nov-30", "dec-01-morning"}
    assert names("since=2026-12-01T09:00:00Z&until=2026-12-02") == {"dec-01-evening", "dec-02"}

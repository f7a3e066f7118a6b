"""Bad input gets a clear error and loses nothing: unknown fields, read-only fields, huge or
deeply nested bodies and overlong lists are 400s in the common error shape."""

from __future__ import annotations

import json

import pytest

from instances.models import ServiceInstance, Status
from tests.factories import make_instance

pytestmark = pytest.mark.django_db

BODY = {
    "team": "alpha",
    "name": "strict-1",
    "region": "cn-hangzhou",
    "zone": "cn-hangzhou-i",
    "instance_type": "ecs.gn6i-c4g1.xlarge",
}


def post(client, path: str, body: str):
    return client.generic("POST", path, body, content_type="application/json")


def assert_invalid(response, *fields: str) -> dict:
    assert response.status_code == 400, response.content
    body = response.json()
    assert set(body) == {"code", "message", "details"}
    for field in fields:
        assert field in body["details"], body
    return body


def test_an_unknown_field_is_named_and_nothing_is_created(as_alice) -> None:
    body = {**BODY, "password": "Secret-123456"}
    response = as_alice.post("/api/v1/instances/", body, format="json")
    details = assert_invalid(response, "password")["details"]
    assert "host_password" in details["password"][0]  # the message lists the real fields
    assert not ServiceInstance.objects.exists()


def test_an_update_with_fields_it_cannot_change_is_refused(as_alice, team) -> None:
    instance = make_instance(team, status=Status.RUNNING, name="before")
    response = as_alice.patch(
        f"/api/v1/instances/{instance.public_id}/",
        {"status": "stopped", "team": "beta", "name": "after"},
        format="json",
    )
    assert_invalid(response, "status", "team")
    instance.refresh_from_db()
    assert (instance.status, instance.name) == (Status.RUNNING, "before")


@pytest.mark.parametrize(
    "path", ["/api/v1/instances/", "/api/v1/estimates/", "/api/v1/budgets/", "/api/v1/tokens/"]
)
def test_a_deeply_nested_body_is_a_400_not_a_500(as_alice, path) -> None:
    response = post(as_alice, path, "[" * 100_000)
    assert response.status_code == 400
    assert response.json()["code"] == "parse_error"
    assert "nested" in response.json()["message"]


def test_a_huge_body_is_refused_before_it_is_read(as_alice, settings) -> None:
    settings.NESTOPS_API_MAX_BODY_BYTES = 4096
    response = post(as_alice, "/api/v1/instances/", json.dumps({**BODY, "name": "x" * 10_000}))
    assert response.status_code == 400
    assert response.json()["code"] == "parse_error"


def test_not_a_number_is_not_json(as_alice) -> None:
    response = post(as_alice, "/api/v1/estimates/", '{"instance_type": NaN}')
    assert response.status_code == 400 and response.json()["code"] == "parse_error"


def test_a_list_is_measured_before_its_items(as_alice, carol) -> None:
    from tests.conftest import token_client

    thresholds = ["not a number"] * 5_000
    response = token_client(carol).post(
        "/api/v1/budgets/",
        {"team": "alpha", "amount": "10", "thresholds": thresholds},
        format="json",
    )
    details = assert_invalid(response, "thresholds")["details"]
    assert details["thresholds"] == ["At most 10 items."]


def test_brackets_inside_strings_do_not_count_as_nesting() -> None:
    from nestops.parsers import nesting_depth

    assert nesting_depth('{"a": "[[[[[[", "b": [1, [2]]}') == 3
    assert nesting_depth('["\\"[[["]') == 1

"""Real responses match the OpenAPI schema the API publishes (/api/v1/schema/)."""

from __future__ import annotations

from typing import Any

import jsonschema
import pytest
from django.utils import timezone

from accounts.models import AuditAction, AuditEvent, Membership, Role
from autostop.models import Schedule
from budgets.models import Budget
from instances.models import Status
from tests.conftest import token_client
from tests.factories import make_instance

pytestmark = pytest.mark.django_db


def as_json_schema(node: Any) -> Any:
    """OpenAPI 3.0's dialect as JSON Schema: ``nullable`` becomes a null type, refs stay."""
    if isinstance(node, list):
        return [as_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    converted = {key: as_json_schema(value) for key, value in node.items() if key != "nullable"}
    if node.get("nullable"):
        if "type" in converted:
            converted["type"] = [converted["type"], "null"]
        elif "$ref" in converted or "allOf" in converted or "oneOf" in converted:
            converted = {"anyOf": [converted, {"type": "null"}]}
        if "enum" in converted:
            converted["enum"] = [*converted["enum"], None]
    return converted


@pytest.fixture
def schema(as_alice) -> dict[str, Any]:
    response = as_alice.get("/api/v1/schema/", {"format": "json"})
    assert response.status_code == 200
    return as_json_schema(response.json())


def check(schema: dict[str, Any], template: str, method: str, response: Any) -> None:
    operation = schema["paths"][template][method]
    described = operation["responses"].get(str(response.status_code))
    assert described is not None, f"{method} {template} answered {response.status_code}"
    if response.status_code == 204:
        return
    body_schema = described["content"]["application/json"]["schema"]
    # The body's schema with the components beside it, so "#/components/..." refs resolve.
    validator = jsonschema.Draft202012Validator({**body_schema, "components": schema["components"]})
    errors = sorted(validator.iter_errors(response.json()), key=lambda e: list(e.path))
    assert not errors, f"{method} {template}: " + "; ".join(
        f"{list(e.path)}: {e.message}" for e in errors[:5]
    )


@pytest.fixture
def world(sim, team, alice, carol):
    instance = make_instance(team, status=Status.RUNNING)
    Schedule.objects.create(
        instance=instance,
        time_zone="Asia/Shanghai",
        windows=[{"days": ["mon"], "start": "09:00", "end": "18:00"}],
        applied_until=timezone.now(),
    )
    Budget.objects.create(team=team, amount="100", currency="CNY")
    # An event of no team (a token) and one with no actor (reconcile) are listed too.
    AuditEvent.objects.create(actor=alice, team=None, action=AuditAction.TOKEN_CREATED)
    AuditEvent.objects.create(actor=None, team=team, action=AuditAction.INSTANCE_DRIFT)
    Membership.objects.filter(user=carol).update(role=Role.ADMIN)
    return instance


def test_responses_match_the_schema(schema, world, as_alice, carol) -> None:
    as_carol = token_client(carol)
    i = world.public_id
    calls = [
        ("get", "/api/v1/instances/", "/api/v1/instances/", None),
        ("get", "/api/v1/instances/{public_id}/", f"/api/v1/instances/{i}/", None),
        ("get", "/api/v1/operations/", "/api/v1/operations/", None),
        ("get", "/api/v1/teams/", "/api/v1/teams/", None),
        ("get", "/api/v1/tokens/", "/api/v1/tokens/", None),
        ("get", "/api/v1/audit-events/", "/api/v1/audit-events/", None),
        ("get", "/api/v1/budgets/", "/api/v1/budgets/", None),
        ("get", "/api/v1/notification-channels/", "/api/v1/notification-channels/", None),
        ("get", "/api/v1/catalog/regions/", "/api/v1/catalog/regions/", None),
        ("get", "/api/v1/catalog/zones/", "/api/v1/catalog/zones/?region=cn-hangzhou", None),
        (
            "get",
            "/api/v1/catalog/instance-types/",
            "/api/v1/catalog/instance-types/?region=cn-hangzhou",
            None,
        ),
        (
            "get",
            "/api/v1/instances/{public_id}/idle-policy/",
            f"/api/v1/instances/{i}/idle-policy/",
            None,
        ),
        ("get", "/api/v1/instances/{public_id}/snooze/", f"/api/v1/instances/{i}/snooze/", None),
        (
            "post",
            "/api/v1/instances/{public_id}/snooze/",
            f"/api/v1/instances/{i}/snooze/",
            {"hours": 1, "reason": "rendering"},
        ),
        (
            "get",
            "/api/v1/instances/{public_id}/schedule/",
            f"/api/v1/instances/{i}/schedule/",
            None,
        ),
        ("get", "/api/v1/instances/{public_id}/metrics/", f"/api/v1/instances/{i}/metrics/", None),
        ("get", "/api/v1/instances/{instance_id}/models/", f"/api/v1/instances/{i}/models/", None),
        ("get", "/api/v1/teams/{slug}/idle-settings/", "/api/v1/teams/alpha/idle-settings/", None),
        (
            "get",
            "/api/v1/teams/{slug}/download-settings/",
            "/api/v1/teams/alpha/download-settings/",
            None,
        ),
        (
            "patch",
            "/api/v1/teams/{slug}/download-settings/",
            "/api/v1/teams/alpha/download-settings/",
            {"huggingface_endpoint": "https://hf-mirror.com", "download_connections": 4},
        ),
        ("get", "/api/v1/costs/", "/api/v1/costs/", None),
        (
            "post",
            "/api/v1/estimates/",
            "/api/v1/estimates/",
            {
                "region": "cn-hangzhou",
                "zone": world.zone,
                "instance_type": world.instance_type,
                "always_on": True,
            },
        ),
        (
            "post",
            "/api/v1/instances/{public_id}/credentials/",
            f"/api/v1/instances/{i}/credentials/",
            {},
        ),
        ("post", "/api/v1/instances/", "/api/v1/instances/", {"name": "no-team-given"}),
    ]
    for method, template, path, body in calls:
        client = as_carol if template.endswith("-settings/") else as_alice
        send = getattr(client, method)
        response = send(path) if body is None else send(path, body, format="json")
        check(schema, template, method, response)

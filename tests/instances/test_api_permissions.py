"""Who may do what through the API: anonymous, alice (operator), bob (viewer), mallory."""

from __future__ import annotations

import pytest

from accounts.models import AuditAction, AuditEvent
from accounts.requester import Requester
from instances.models import Status
from operations.models import Kind, Operation
from operations.services import request_operation
from tests.factories import make_instance

pytestmark = pytest.mark.django_db


@pytest.fixture
def running(team):
    return make_instance(team, status=Status.RUNNING)


def url(instance, action: str = "") -> str:
    return f"/api/v1/instances/{instance.public_id}/" + (f"{action}/" if action else "")


def test_anonymous_gets_401_everywhere(anonymous, running) -> None:
    for method, path in [
        ("get", "/api/v1/instances/"),
        ("post", "/api/v1/instances/"),
        ("get", url(running)),
        ("patch", url(running)),
        ("post", url(running, "stop")),
        ("post", url(running, "credentials")),
        ("get", "/api/v1/operations/"),
        ("get", "/api/v1/catalog/regions/"),
        ("get", "/api/v1/tokens/"),
        ("get", "/api/v1/teams/"),
        ("get", "/api/v1/audit-events/"),
    ]:
        response = getattr(anonymous, method)(path)
        assert response.status_code == 401, (method, path)
        assert set(response.json()) == {"code", "message", "details"}


def test_members_see_their_teams_instances_and_outsiders_see_nothing(
    as_alice, as_bob, as_mallory, running
) -> None:
    for client in (as_alice, as_bob):
        listing = client.get("/api/v1/instances/").json()
        assert [i["id"] for i in listing["results"]] == [running.public_id]
        assert client.get(url(running)).status_code == 200
    assert as_mallory.get("/api/v1/instances/").json()["results"] == []
    response = as_mallory.get(url(running))
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_a_viewer_cannot_act_and_an_outsider_gets_404(as_bob, as_mallory, running) -> None:
    for action in ("start", "stop", "restart", "resize", "delete", "redeploy", "credentials"):
        method = "post"
        bob = getattr(as_bob, method)(url(running, action), {}, format="json")
        assert bob.status_code == 403, action
        assert bob.json()["code"] == "permission_denied"
        mallory = getattr(as_mallory, method)(url(running, action), {}, format="json")
        assert mallory.status_code == 404, action
    assert as_bob.patch(url(running), {"name": "renamed"}, format="json").status_code == 403
    assert as_mallory.patch(url(running), {"name": "renamed"}, format="json").status_code == 404
    assert as_bob.delete(url(running)).status_code == 403
    assert not Operation.objects.exists()


def test_a_viewer_cannot_deploy(as_bob) -> None:
    response = as_bob.post(
        "/api/v1/instances/",
        {
            "name": "x1",
            "region": "cn-hangzhou",
            "zone": "cn-hangzhou-i",
            "instance_type": "ecs.gn6i-c4g1.xlarge",
        },
        format="json",
    )
    assert response.status_code == 403


def test_an_operator_stops_with_202_and_a_location(as_alice, running) -> None:
    response = as_alice.post(url(running, "stop"), {"mode": "KeepCharging"}, format="json")
    assert response.status_code == 202
    body = response.json()
    assert body["kind"] == "stop" and body["status"] == "pending"
    assert body["params"]["mode"] == "KeepCharging"
    assert response["Location"] == f"/api/v1/operations/{body['id']}/"
    conflict = as_alice.post(url(running, "restart"), {}, format="json")
    assert conflict.status_code == 409
    assert conflict.json()["details"]["active_operation"] == body["id"]


def test_bad_action_input_is_a_400_with_field_errors(as_alice, running) -> None:
    response = as_alice.post(url(running, "stop"), {"mode": "Hibernate"}, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert "mode" in response.json()["details"]


def test_an_operator_renames_and_the_change_is_audited(as_alice, running) -> None:
    response = as_alice.patch(url(running), {"name": "renamed-1"}, format="json")
    assert response.status_code == 200 and response.json()["name"] == "renamed-1"
    assert AuditEvent.objects.filter(action=AuditAction.INSTANCE_UPDATED).count() == 1
    bad = as_alice.patch(url(running), {"name": "has space"}, format="json")
    assert bad.status_code == 400 and "name" in bad.json()["details"]


def test_credentials_are_revealed_only_through_the_audited_action(
    as_alice, as_bob, running
) -> None:
    for client in (as_alice, as_bob):
        detail = client.get(url(running)).content.decode()
        listing = client.get("/api/v1/instances/").content.decode()
        assert "secret-password-value" not in detail + listing
    response = as_alice.post(url(running, "credentials"))
    assert response.status_code == 200
    assert response.json()["webui_password"] == "secret-password-value"
    assert response["Cache-Control"] == "no-store"
    event = AuditEvent.objects.get(action=AuditAction.CREDENTIALS_REVEALED)
    assert event.target == running.public_id and event.actor.username == "alice"
    assert "secret-password-value" not in str(event.details)


def test_operations_are_scoped_like_instances(as_alice, as_bob, as_mallory, alice, running) -> None:
    operation, _ = request_operation(
        instance=running, kind=Kind.STOP, requester=Requester(source="api", actor=alice)
    )
    path = f"/api/v1/operations/{operation.public_id}/"
    assert as_alice.get(path).status_code == 200
    assert as_bob.get(path).status_code == 200
    assert as_mallory.get(path).status_code == 404
    assert as_mallory.get("/api/v1/operations/").json()["results"] == []
    assert as_bob.post(path + "cancel/").status_code == 403
    assert as_mallory.post(path + "cancel/").status_code == 404
    cancelled = as_alice.post(path + "cancel/")
    assert cancelled.status_code == 202 and cancelled.json()["cancel_requested"] is True


def test_tokens_are_shown_once_and_revoked_tokens_stop_working(as_alice, anonymous) -> None:
    created = as_alice.post("/api/v1/tokens/", {"name": "ci"}, format="json")
    assert created.status_code == 201
    plain = created.json()["token"]
    listing = as_alice.get("/api/v1/tokens/").content.decode()
    assert plain not in listing
    anonymous.credentials(HTTP_AUTHORIZATION=f"Bearer {plain}")
    assert anonymous.get("/api/v1/instances/").status_code == 200
    revoked = as_alice.delete(f"/api/v1/tokens/{created.json()['id']}/")
    assert revoked.status_code == 204
    assert anonymous.get("/api/v1/instances/").status_code == 401
    actions = list(AuditEvent.objects.values_list("action", flat=True))
    assert AuditAction.TOKEN_CREATED in actions and AuditAction.TOKEN_REVOKED in actions


def test_an_expired_token_is_refused(alice, anonymous) -> None:
    from datetime import timedelta

    from django.utils import timezone

    from accounts.models import ApiToken

    _token, plain = ApiToken.issue(user=alice, name="old", expires_at=timezone.now() - timedelta(1))
    anonymous.credentials(HTTP_AUTHORIZATION=f"Bearer {plain}")
    response = anonymous.get("/api/v1/instances/")
    assert response.status_code == 401
    assert "expired" in response.json()["message"]


def test_an_unknown_or_malformed_token_is_refused(anonymous) -> None:
    for header in ("Bearer nst_nope", "Bearer a b"):
        anonymous.credentials(HTTP_AUTHORIZATION=header)
        assert anonymous.get("/api/v1/instances/").status_code == 401


def test_audit_events_show_own_events_and_admins_see_their_team(
    as_alice, as_bob, as_mallory, carol, running
) -> None:
    from tests.conftest import token_client

    as_alice.post(url(running, "credentials"))
    mine = as_alice.get("/api/v1/audit-events/").json()["results"]
    assert [e["action"] for e in mine] == ["credentials.revealed"]
    admin_view = token_client(carol).get("/api/v1/audit-events/").json()["results"]
    assert [e["target"] for e in admin_view] == [running.public_id]
    assert as_bob.get("/api/v1/audit-events/").json()["results"] == []
    assert as_mallory.get("/api/v1/audit-events/").json()["results"] == []


def test_deleted_instances_leave_the_list_but_keep_their_page(as_alice, team) -> None:
    deleted = make_instance(team, status=Status.DELETED)
    assert as_alice.get("/api/v1/instances/").json()["results"] == []
    assert as_alice.get(url(deleted)).json()["status"] == "deleted"
    listed = as_alice.get("/api/v1/instances/?include_deleted=true").json()["results"]
    assert [i["id"] for i in listed] == [deleted.public_id]
    assert as_alice.get("/api/v1/instances/?status=deleted").json()["count"] == 1

"""Failed logins are throttled; admin actions on instances go through operations."""

from __future__ import annotations

import pytest
from django.test import Client

from accounts.requester import Requester
from instances.models import Status
from operations.models import Operation
from tests.factories import make_instance

pytestmark = pytest.mark.django_db


def test_repeated_failed_logins_lock_the_account_for_a_while(alice, settings) -> None:
    client = Client()
    for _ in range(settings.NESTOPS_LOGIN_FAILURE_LIMIT - 1):
        response = client.post("/accounts/login/", {"username": "alice", "password": "wrong"})
        assert response.status_code == 200  # the form again, with its error
    last = client.post("/accounts/login/", {"username": "alice", "password": "wrong"})
    assert last.status_code == 429
    locked = client.post("/accounts/login/", {"username": "alice", "password": "alice-pw-123"})
    assert locked.status_code == 429
    assert "Too many failed sign-ins" in locked.content.decode()
    assert "_auth_user_id" not in client.session


def test_a_successful_login_lands_on_the_instances(alice) -> None:
    client = Client()
    response = client.post("/accounts/login/", {"username": "alice", "password": "alice-pw-123"})
    assert response.status_code == 302 and response["Location"] == "/"


def test_admin_actions_request_operations_with_source_admin(admin_user, team) -> None:
    instance = make_instance(team, status=Status.RUNNING)
    client = Client()
    client.force_login(admin_user)
    response = client.post(
        "/admin/instances/serviceinstance/",
        {"action": "request_stop", "_selected_action": [instance.pk]},
        follow=True,
    )
    assert response.status_code == 200
    operation = Operation.objects.get(instance=instance)
    assert (operation.kind, operation.source, operation.actor) == ("stop", "admin", admin_user)
    again = client.post(
        "/admin/instances/serviceinstance/",
        {"action": "request_restart", "_selected_action": [instance.pk]},
        follow=True,
    )
    assert operation.public_id in again.content.decode()
    assert Operation.objects.count() == 1


def test_operations_are_read_only_in_the_admin(admin_user, alice, team) -> None:
    from operations.services import request_operation

    instance = make_instance(team, status=Status.RUNNING)
    operation, _ = request_operation(
        instance=instance, kind="stop", requester=Requester(source="api", actor=alice)
    )
    client = Client()
    client.force_login(admin_user)
    page = client.get(f"/admin/operations/operation/{operation.pk}/change/")
    assert page.status_code == 200
    assert client.post(f"/admin/operations/operation/{operation.pk}/change/", {}).status_code == 403
    assert client.get("/admin/operations/operation/add/").status_code == 403


def test_tokens_revoked_in_the_admin_are_audited_once(admin_user, alice) -> None:
    from accounts.models import ApiToken, AuditEvent
    from accounts.services import issue_token, revoke_token

    token, _plain = issue_token(user=alice, name="ci", expires_at=None, via="test")
    client = Client()
    client.force_login(admin_user)
    client.post(
        "/admin/accounts/apitoken/",
        {"action": "revoke", "_selected_action": [token.pk]},
        follow=True,
    )
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert not revoke_token(token=token, actor=admin_user, via="test")  # already revoked
    events = AuditEvent.objects.filter(target=token.public_id).order_by("created_at")
    assert [(e.action, e.details["via"]) for e in events] == [
        ("token.created", "test"),
        ("token.revoked", "admin"),
    ]
    assert ApiToken.objects.usable().filter(pk=token.pk).count() == 0


def test_every_admin_list_opens_and_records_are_read_only(admin_user, alice, team) -> None:
    from django.contrib import admin as django_admin

    from nestops.admin import ReadOnlyAdmin
    from operations.services import request_operation

    instance = make_instance(team, status=Status.RUNNING)
    request_operation(
        instance=instance, kind="stop", requester=Requester(source="api", actor=alice)
    )
    client = Client()
    client.force_login(admin_user)
    for model, model_admin in django_admin.site._registry.items():
        meta = model._meta
        url = f"/admin/{meta.app_label}/{meta.model_name}/"
        assert client.get(url).status_code == 200, url
        if isinstance(model_admin, ReadOnlyAdmin):
            assert client.get(url + "add/").status_code == 403, url

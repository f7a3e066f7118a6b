"""Who may reach every URL of nestops: anonymous, an outsider (operator of another team),
Alpha's viewer, operator and admin.

The matrix names every URL pattern the resolver knows (the Django admin's own are checked as
one: staff only). A new endpoint without an entry fails ``test_every_url_has_an_entry``.
Requests that change something are sent only by those who must be refused.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from accounts.models import ApiToken, Membership
from budgets.models import Budget
from hostfiles.models import Extension, ModelFile
from images.models import ImageBuild, WebUIImage
from instances.models import Status
from notifications.models import NotificationChannel
from operations.models import Kind, Operation
from tests.factories import make_instance

pytestmark = pytest.mark.django_db

# Who passes: PUBLIC anyone; USER anyone signed in; VIEWER/OPERATOR/ADMIN at least that role in
# the team that owns the object in the URL (others: 404 for outsiders, 403 for members);
# TEAM_OPERATOR/TEAM_ADMIN at least that role in the user's current team (a page about "my
# team"); OWNER only the user who owns the object (everyone else: 404).
PUBLIC, USER, VIEWER, OPERATOR, ADMIN = "public", "user", "viewer", "operator", "admin"
TEAM_OPERATOR, TEAM_ADMIN, OWNER = "team-operator", "team-admin", "owner"
# Answered only to the WebUI gateway, which proves itself with a shared secret: every person
# calling them directly is refused.
GATEWAY = "gateway"

MATRIX: dict[str, list[tuple[str, str]]] = {
    "healthz": [("get", PUBLIC)],
    "metrics": [("get", PUBLIC)],
    "login": [("get", PUBLIC)],
    "logout": [("post", PUBLIC)],
    "account:tokens": [("get", USER)],
    "account:revoke-token": [("post", OWNER)],
    "account:members": [("get", USER)],
    "account:change-member": [("post", TEAM_ADMIN)],
    "account:language": [("post", USER)],
    "account:preferences": [("get", USER)],
    "account:switch-team": [("post", USER)],
    "account:password": [("get", USER)],
    "account:password-done": [("get", USER)],
    "api:api-root": [("get", USER)],
    "api:schema": [("get", PUBLIC)],
    "api:docs": [("get", PUBLIC)],
    "api:instance-list": [("get", USER), ("post", USER)],
    "api:instance-detail": [("get", VIEWER), ("patch", OPERATOR), ("delete", OPERATOR)],
    "api:instance-credentials": [("post", OPERATOR)],
    "api:instance-redeploy": [("post", OPERATOR)],
    "api:instance-start": [("post", OPERATOR)],
    "api:instance-stop": [("post", OPERATOR)],
    "api:instance-restart": [("post", OPERATOR)],
    "api:instance-resize": [("post", OPERATOR)],
    "api:instance-webui-language": [("post", OPERATOR)],
    "api:instance-delete-instance": [("post", OPERATOR)],
    "api:instance-models": [("get", VIEWER), ("post", OPERATOR)],
    "api:instance-model": [("get", VIEWER), ("delete", OPERATOR)],
    "api:instance-model-preview": [("post", OPERATOR)],
    "api:instance-model-thumbnail": [("get", VIEWER)],
    "api:instance-extensions": [("get", VIEWER), ("post", OPERATOR)],
    "api:instance-extension": [("get", VIEWER), ("patch", OPERATOR), ("delete", OPERATOR)],
    "api:instance-extension-update": [("post", OPERATOR)],
    "api:instance-inventory-refresh": [("post", OPERATOR)],
    "api:instance-file-activity": [("get", VIEWER)],
    "api:instance-metrics": [("get", VIEWER)],
    "api:instance-idle-policy": [("get", VIEWER), ("put", OPERATOR)],
    "api:instance-snooze": [("post", OPERATOR)],
    "api:instance-schedule": [("get", VIEWER), ("put", OPERATOR)],
    "api:team-list": [("get", USER)],
    "api:team-detail": [("get", VIEWER)],
    "api:team-idle-settings": [("get", VIEWER), ("put", ADMIN)],
    "api:team-model-site-tokens": [("get", VIEWER)],
    "api:team-model-site-token": [("get", VIEWER), ("put", ADMIN), ("delete", ADMIN)],
    "api:team-download-settings": [("get", VIEWER), ("put", ADMIN), ("patch", ADMIN)],
    "api:token-list": [("get", USER)],
    "api:token-detail": [("get", OWNER), ("delete", OWNER)],
    "api:audit-event-list": [("get", USER)],
    "api:operation-list": [("get", USER)],
    "api:operation-detail": [("get", VIEWER)],
    "api:operation-cancel": [("post", OPERATOR)],
    "api:notification-channel-list": [("get", USER)],
    "api:notification-channel-detail": [("get", VIEWER), ("patch", ADMIN), ("delete", ADMIN)],
    "api:notification-channel-test": [("post", ADMIN)],
    "api:notification-delivery-list": [("get", USER)],
    "api:budget-list": [("get", USER)],
    "api:budget-detail": [("get", VIEWER), ("delete", ADMIN)],
    "api:estimates": [("post", USER)],
    "api:costs": [("get", USER)],
    "api:catalog-regions": [("get", USER)],
    "api:catalog-zones": [("get", USER)],
    "api:catalog-instance-types": [("get", USER)],
    "instances:list": [("get", USER)],
    "instances:create": [("get", TEAM_OPERATOR)],
    "instances:wizard-zones": [("get", USER)],
    "instances:wizard-types": [("get", USER)],
    "instances:wizard-summary": [("get", USER)],
    "instances:detail": [("get", VIEWER)],
    "instances:credentials": [("post", OPERATOR)],
    "instances:action": [("post", OPERATOR)],
    "hostfiles:files": [("get", VIEWER)],
    "hostfiles:files-action": [("post", OPERATOR)],
    "hostfiles:model-action": [("post", OPERATOR)],
    "hostfiles:extension-action": [("post", OPERATOR)],
    "hostfiles:activity-action": [("post", OPERATOR)],
    "hostfiles:tokens": [("get", USER), ("post", TEAM_ADMIN)],
    "hostfiles:download-settings": [("get", USER), ("post", TEAM_ADMIN)],
    "notifications:channels": [("get", USER), ("post", TEAM_ADMIN)],
    "autostop:idle-policy": [("post", OPERATOR)],
    "autostop:snooze": [("post", OPERATOR)],
    "autostop:schedule": [("post", OPERATOR)],
    "operations:list": [("get", USER)],
    "operations:detail": [("get", VIEWER)],
    "operations:cancel": [("post", OPERATOR)],
    "billing:costs": [("get", USER)],
    "budgets:budget": [("get", USER), ("post", TEAM_ADMIN)],
    "budgets:budget-delete": [("post", TEAM_ADMIN)],
    "api:instance-webui-usage": [("get", VIEWER)],
    "webgateway:open": [("get", OPERATOR)],
    "webgateway:auth": [("get", GATEWAY), ("post", GATEWAY)],
    "webgateway:page": [("get", GATEWAY)],
    "webgateway:handoff": [("get", GATEWAY)],
    "webgateway:status": [("get", GATEWAY)],
    "webgateway:start": [("post", GATEWAY)],
    "api:image-list": [("get", USER)],
    "api:image-detail": [("get", USER), ("delete", TEAM_ADMIN)],
    "api:image-build-list": [("get", USER), ("post", TEAM_ADMIN)],
    "api:image-build-detail": [("get", USER)],
    "images:images": [("get", USER)],
    "images:start-build": [("post", TEAM_ADMIN)],
    "images:build": [("get", USER)],
    "images:delete": [("post", TEAM_ADMIN)],
    "cloudaccount:check": [("get", TEAM_ADMIN)],
}
ACTORS = ("anonymous", "outsider", "viewer", "operator", "admin")
RANK = {"viewer": 0, "operator": 1, "admin": 2}
NEEDED = {VIEWER: 0, OPERATOR: 1, ADMIN: 2, TEAM_OPERATOR: 1, TEAM_ADMIN: 2}


def url_names() -> set[str]:
    names: set[str] = set()

    def walk(patterns: list[Any], namespace: str) -> None:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                inner = pattern.namespace or ""
                walk(
                    pattern.url_patterns, f"{namespace}:{inner}".strip(":") if inner else namespace
                )
            elif isinstance(pattern, URLPattern) and pattern.name:
                names.add(f"{namespace}:{pattern.name}" if namespace else pattern.name)

    walk(get_resolver().url_patterns, "")
    return {name for name in names if not name.startswith("admin:")}


def test_every_url_has_an_entry() -> None:
    names = url_names()
    assert sorted(names - set(MATRIX)) == [], "add these URLs to the permission matrix"
    assert sorted(set(MATRIX) - names) == [], "these matrix entries name no URL"


@pytest.fixture
def world(sim, team, other_team, alice, bob, carol, mallory) -> dict[str, Any]:
    instance = make_instance(team, status=Status.RUNNING)
    operation = Operation.objects.create(
        instance=instance, team=team, kind=Kind.STOP, source="api", status="running"
    )
    model = ModelFile.objects.create(
        instance=instance,
        kind="lora",
        path="models/Lora/a.safetensors",
        name="a",
        has_preview=True,
        preview_thumbnail=b"\x89PNG\r\n\x1a\n",
        thumbnail_etag="0123456789abcdef",
    )
    extension = Extension.objects.create(
        instance=instance, name="sd-ext", remote_url="https://github.com/a/b.git", ref="main"
    )
    token, _plain = ApiToken.issue(user=alice, name="alice's")
    channel = NotificationChannel.objects.create(
        team=team, name="ops", kind="email", target="a@b.c"
    )
    budget = Budget.objects.create(team=team, amount="100", currency="CNY")
    image = WebUIImage.objects.create(
        template="sd-webui", region="cn-hangzhou", cloud_image_id="m-matrix", name="m"
    )
    build = ImageBuild.objects.create(
        template="sd-webui", region="cn-hangzhou", base_image_id="x", source="api"
    )
    values = {
        "public_id": instance.public_id,
        "instance_id": instance.public_id,
        "model_id": model.public_id,
        "extension_id": extension.public_id,
        "slug": team.slug,
        "provider": "huggingface",
        "username": "bob",
        "image_id": image.cloud_image_id,
        "cloud_image_id": image.cloud_image_id,
    }
    by_name = {
        "api:operation-detail": {"public_id": operation.public_id},
        "api:operation-cancel": {"public_id": operation.public_id},
        "operations:detail": {"public_id": operation.public_id},
        "operations:cancel": {"public_id": operation.public_id},
        "api:token-detail": {"public_id": token.public_id},
        "account:revoke-token": {"public_id": token.public_id},
        "api:notification-channel-detail": {"public_id": channel.public_id},
        "api:notification-channel-test": {"public_id": channel.public_id},
        "api:budget-detail": {"public_id": budget.public_id},
        "api:image-build-detail": {"public_id": build.public_id},
        "images:build": {"public_id": build.public_id},
        "instances:action": {"public_id": instance.public_id, "action": "stop"},
        "hostfiles:files-action": {"public_id": instance.public_id, "action": "refresh"},
        "hostfiles:model-action": {
            "public_id": instance.public_id,
            "model_id": model.public_id,
            "action": "delete",
        },
        "hostfiles:extension-action": {
            "public_id": instance.public_id,
            "extension_id": extension.public_id,
            "action": "remove",
        },
        "hostfiles:activity-action": {
            "public_id": instance.public_id,
            "operation_id": operation.public_id,
            "action": "dismiss",
        },
    }
    users = {"outsider": mallory, "viewer": bob, "operator": alice, "admin": carol}
    return {"values": values, "by_name": by_name, "users": users}


def path_for(name: str, world: dict[str, Any]) -> str:
    if name in world["by_name"]:
        return reverse(name, kwargs=world["by_name"][name])
    pattern_kwargs = _kwargs_of(name)
    return reverse(name, kwargs={k: world["values"][k] for k in pattern_kwargs})


def _kwargs_of(name: str) -> list[str]:
    resolver = get_resolver()
    namespace, _sep, short = name.rpartition(":")
    if namespace:
        resolver = resolver.namespace_dict[namespace][1]
    possibilities = resolver.reverse_dict.getlist(short)
    # The shortest form (no format suffix).
    shortest = min(possibilities, key=lambda p: len(p[0][0][1]))
    return [k for k in shortest[0][0][1] if k != "format"]


def expected(rule: str, actor: str) -> str:
    """'allow', 'login' (401 or a redirect to the login page), 'hidden' (404), 'forbidden'."""
    if rule == PUBLIC:
        return "allow"
    if rule == GATEWAY:
        return "forbidden"
    if actor == "anonymous":
        return "login"
    if rule == USER:
        return "allow"
    if rule == OWNER:
        return "allow" if actor == "operator" else "hidden"
    if rule in (TEAM_OPERATOR, TEAM_ADMIN):
        # The outsider is an operator of her own team.
        role = RANK["operator"] if actor == "outsider" else RANK[actor]
        return "allow" if role >= NEEDED[rule] else "forbidden"
    if actor == "outsider":
        return "hidden"
    return "allow" if RANK[actor] >= NEEDED[rule] else "forbidden"


def observed(response: Any) -> str:
    code = response.status_code
    if code == 401 or (code == 302 and "/login/" in response.get("Location", "")):
        return "login"
    if code == 404:
        return "hidden"
    if code == 403:
        return "forbidden"
    return "allow"


CASES = [(name, method, rule) for name, rules in MATRIX.items() for method, rule in rules]


@pytest.mark.parametrize(("name", "method", "rule"), CASES, ids=[f"{c[0]}-{c[1]}" for c in CASES])
def test_the_matrix(world, name: str, method: str, rule: str) -> None:
    path = path_for(name, world)
    for actor in ACTORS:
        want = expected(rule, actor)
        if method != "get" and want == "allow":
            continue  # only those who must be refused send requests that change things
        client = Client()
        if actor != "anonymous":
            client.force_login(world["users"][actor])
        response = getattr(client, method)(path, content_type="application/json")
        assert observed(response) == want, (actor, method, path, response.status_code)


def test_the_admin_site_is_for_staff_only(alice) -> None:
    client = Client()
    client.force_login(alice)
    for path in ("/admin/", "/admin/instances/serviceinstance/", "/admin/accounts/team/"):
        response = client.get(path)
        assert response.status_code == 302 and "/admin/login/" in response["Location"], path
    staff = get_user_model().objects.create_user("root", password="x", is_staff=True)
    Membership.objects.filter(user=staff).delete()
    client.force_login(staff)
    assert client.get("/admin/").status_code == 200

"""A team that does not exist and a team one is not a member of get the same answer; the
members form does not say whether an account exists."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from accounts.models import Membership, Role

pytestmark = pytest.mark.django_db


def answer(response) -> tuple[int, str, dict]:
    body = response.json()
    return response.status_code, body["message"], body["details"]


def test_a_missing_team_and_someone_elses_team_answer_alike_everywhere(
    as_mallory, team, other_team
) -> None:
    bodies = {
        "/api/v1/notification-channels/": {
            "name": "ops",
            "kind": "email",
            "target": "ops@example.com",
            "events": [],
        },
        "/api/v1/budgets/": {"amount": "10"},
        "/api/v1/instances/": {
            "name": "probe-1",
            "region": "cn-hangzhou",
            "zone": "cn-hangzhou-i",
            "instance_type": "ecs.gn6i-c4g1.xlarge",
        },
    }
    for url, body in bodies.items():
        existing = as_mallory.post(url, {**body, "team": "alpha"}, format="json")
        missing = as_mallory.post(url, {**body, "team": "alpha-nope"}, format="json")
        status, message, details = answer(existing)
        assert status == 400, (url, existing.json())
        assert answer(missing) == (
            400,
            message.replace("alpha", "alpha-nope"),
            {"team": [details["team"][0].replace("alpha", "alpha-nope")]},
        ), url
        assert details["team"] == ["No team alpha among yours."], url


def test_team_scoped_urls_answer_404_alike(as_mallory, team) -> None:
    for template in (
        "/api/v1/teams/{}/",
        "/api/v1/teams/{}/idle-settings/",
        "/api/v1/teams/{}/model-site-tokens/huggingface/",
        "/api/v1/teams/{}/download-settings/",
        "/api/v1/costs/?team={}",
    ):
        existing = as_mallory.get(template.format("alpha"))
        missing = as_mallory.get(template.format("alpha-nope"))
        assert existing.status_code == missing.status_code == 404, template
        assert existing.json()["message"] == missing.json()["message"].replace(
            "alpha-nope", "alpha"
        ), template


def test_the_members_form_says_the_same_whether_the_account_exists(carol, team) -> None:
    get_user_model().objects.create_user(username="dave", password="dave-pw-123")
    client = Client()
    client.force_login(carol)

    def add(username: str) -> str:
        response = client.post(
            "/account/members/", {"username": username, "role": "viewer"}, follow=True
        )
        assert response.status_code == 200
        messages = re.findall(r'<p class="message[^"]*">(.*?)</p>', response.content.decode())
        return [m.replace(username, "NAME") for m in messages]

    assert (
        add("dave")
        == add("nobody-here")
        == ["If NAME has an account, they are now Viewer of Alpha."]
    )
    assert Membership.objects.get(user__username="dave", team=team).role == Role.VIEWER
    assert not get_user_model().objects.filter(username="nobody-here").exists()

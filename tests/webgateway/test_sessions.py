"""Handoff codes and gateway sessions: expiry, ending, pruning."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from nestops.beat import PERIODIC_JOBS
from tests.factories import make_instance
from webgateway.models import GatewaySession, HandoffCode
from webgateway.services import (
    HandoffRefused,
    end_sessions,
    exchange_handoff,
    issue_handoff,
)
from webgateway.tasks import prune_sessions

pytestmark = pytest.mark.django_db


@pytest.fixture
def instance(team):
    return make_instance(team, status="running")


def _exchange(code, instance):
    return exchange_handoff(
        code=code, instance_public_id=instance.public_id, remote_addr=None, user_agent=""
    )


def test_an_expired_handoff_code_is_refused(alice, instance):
    code = issue_handoff(user=alice, instance=instance)
    HandoffCode.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    with pytest.raises(HandoffRefused):
        _exchange(code, instance)
    assert not GatewaySession.objects.exists()


def test_only_the_digest_of_codes_and_sessions_is_stored(alice, instance):
    code = issue_handoff(user=alice, instance=instance)
    cookie, next_path = _exchange(code, instance)
    assert next_path == "/"
    assert not HandoffCode.objects.filter(digest=code).exists()
    assert not GatewaySession.objects.filter(digest=cookie).exists()


def test_a_next_path_can_only_be_a_path(alice, instance):
    for given in ("//evil.example/", "/\\evil.example/", "https://evil.example/", "javascript:x"):
        code = issue_handoff(user=alice, instance=instance, next_path=given)
        assert _exchange(code, instance)[1] == "/"


def test_sessions_end_on_request_and_old_ones_are_pruned(alice, bob, instance):
    _exchange(issue_handoff(user=alice, instance=instance), instance)
    _exchange(issue_handoff(user=bob, instance=instance), instance)
    assert end_sessions(user=alice) == 1
    assert GatewaySession.objects.filter(expires_at__gt=timezone.now()).count() == 1
    GatewaySession.objects.filter(user=alice).update(expires_at=timezone.now() - timedelta(days=2))
    HandoffCode.objects.update(expires_at=timezone.now() - timedelta(days=2))
    assert prune_sessions() == 3  # alice's session and both used codes
    assert list(GatewaySession.objects.values_list("user__username", flat=True)) == ["bob"]
    assert PERIODIC_JOBS["prune WebUI sessions"] == ("webgateway.prune", 86400)


def test_only_a_certificate_can_be_pinned(instance):
    from webgateway.services import InvalidCertificate, record_host_certificate

    with pytest.raises(InvalidCertificate):
        record_host_certificate(instance=instance, pem="-----BEGIN CERTIFICATE-----\nno\n")

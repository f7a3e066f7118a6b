"""The API deploys with the system disk (category and size) and the bandwidth the wizard
offers; values outside what the cloud sells are a 400 naming the field, and nothing is made."""

from __future__ import annotations

import pytest

from instances.models import ServiceInstance

pytestmark = pytest.mark.django_db(transaction=True)

BODY = {
    "team": "alpha",
    "region": "cn-hangzhou",
    "zone": "cn-hangzhou-i",
    "instance_type": "ecs.gn6i-c4g1.xlarge",
}


def test_the_disk_and_bandwidth_chosen_are_deployed(sim, as_alice) -> None:
    body = {
        **BODY,
        "name": "disk-1",
        "system_disk_category": "cloud_efficiency",
        "system_disk_size": 500,
        "bandwidth_out": 50,
    }
    response = as_alice.post("/api/v1/instances/", body, format="json")
    assert response.status_code == 201, response.content
    created = response.json()
    assert (created["system_disk_category"], created["system_disk_size"]) == (
        "cloud_efficiency",
        500,
    )
    instance = ServiceInstance.objects.get(name="disk-1")
    assert (instance.system_disk_category, instance.bandwidth_out) == ("cloud_efficiency", 50)


def test_the_defaults_are_an_essd_of_200_gb_and_10_mbits(sim, as_alice) -> None:
    response = as_alice.post("/api/v1/instances/", {**BODY, "name": "disk-2"}, format="json")
    assert response.status_code == 201, response.content
    instance = ServiceInstance.objects.get(name="disk-2")
    assert (
        instance.system_disk_category,
        instance.system_disk_size,
        instance.bandwidth_out,
    ) == ("cloud_essd", 200, 10)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("system_disk_category", "cloud_auto"),
        ("system_disk_size", 39),
        ("system_disk_size", 2049),
        ("bandwidth_out", 0),
        ("bandwidth_out", 101),
    ],
)
def test_what_the_cloud_does_not_sell_is_refused(sim, as_alice, field, value) -> None:
    response = as_alice.post(
        "/api/v1/instances/", {**BODY, "name": "disk-3", field: value}, format="json"
    )
    assert response.status_code == 400, response.content
    assert field in response.json()["details"]
    assert not ServiceInstance.objects.filter(name="disk-3").exists()

from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.django_db


def test_it_lists_regions_zones_and_gpu_types_with_stock(sim, as_bob) -> None:
    regions = as_bob.get("/api/v1/catalog/regions/").json()
    assert "cn-hangzhou" in {r["region_id"] for r in regions}
    zones = as_bob.get("/api/v1/catalog/zones/?region=cn-hangzhou").json()
    assert zones and all(z["zone_id"].startswith("cn-hangzhou-") for z in zones)
    offers = []
    for zone in zones:
        offers += as_bob.get(
            f"/api/v1/catalog/instance-types/?region=cn-hangzhou&zone={zone['zone_id']}"
        ).json()
    assert offers and all(o["gpu_amount"] >= 1 for o in offers)
    assert {o["in_stock"] for o in offers} == {True, False}  # sold-out types are listed too
    t4 = next(o for o in offers if o["instance_type"] == "ecs.gn6i-c4g1.xlarge")
    assert t4["cpu"] == 4 and "T4" in t4["gpu_spec"]


def test_a_sold_out_type_is_reported_and_refused_at_create(sim, as_alice) -> None:
    zone = as_alice.get("/api/v1/catalog/zones/?region=cn-hangzhou").json()[0]["zone_id"]
    offers = as_alice.get(f"/api/v1/catalog/instance-types/?region=cn-hangzhou&zone={zone}").json()
    chosen = offers[0]["instance_type"]
    sim.set_stock(zone, chosen, 0)
    try:
        from django.core.cache import cache

        cache.clear()
        listed = as_alice.get(f"/api/v1/catalog/instance-types/?region=cn-hangzhou&zone={zone}")
        assert next(o for o in listed.json() if o["instance_type"] == chosen)["in_stock"] is False
        response = as_alice.post(
            "/api/v1/instances/",
            {"name": "soldout-1", "region": "cn-hangzhou", "zone": zone, "instance_type": chosen},
            format="json",
        )
        assert response.status_code == 400
        assert "sold out" in response.json()["details"]["instance_type"][0]
    finally:
        sim.set_stock(zone, chosen, 20)


def test_bad_catalog_queries_are_field_errors(sim, as_alice) -> None:
    assert as_alice.get("/api/v1/catalog/zones/").status_code == 400
    assert as_alice.get("/api/v1/catalog/zones/?region=mars-1").json()["details"]["region"]
    response = as_alice.get("/api/v1/catalog/instance-types/?region=cn-hangzhou&zone=nope")
    assert response.status_code == 400 and "zone" in response.json()["details"]


def test_the_schema_and_swagger_ui_are_served_without_any_cdn(client) -> None:
    schema = client.get("/api/v1/schema/")
    assert schema.status_code == 200 and b"/api/v1/instances/" in schema.content
    docs = client.get("/api/v1/docs/")
    assert docs.status_code == 200
    html = docs.content.decode()
    # Every script, style and image comes from nestops itself (a random nonce may spell "cdn").
    assert not re.findall(r'(?:src|href)="(?:https?:)?//', html)
    assert "unpkg" not in html and "jsdelivr" not in html and "cdnjs" not in html


def test_the_schema_is_valid_and_declares_the_bearer_token(db, tmp_path) -> None:
    from django.core.management import call_command

    schema = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(schema))
    text = schema.read_text()
    assert "bearerAuth" in text and "scheme: bearer" in text

"""ECS calls about the offer: regions, zones, instance types, availability and prices."""

from __future__ import annotations

import pytest
from alibabacloud_ecs20140526 import models as m
from alibabacloud_tea_openapi.exceptions import ClientException

from tests.cloudsim import helpers


def test_it_lists_the_regions_with_their_endpoints(ecs):
    body = ecs.describe_regions(m.DescribeRegionsRequest()).body
    helpers.require(body, "request_id", "regions.region.0.region_endpoint")
    helpers.assert_typed(body)
    regions = {r.region_id: r for r in body.regions.region}
    assert {"cn-hangzhou", "cn-shanghai", "cn-beijing", "cn-shenzhen", "ap-southeast-1"} <= set(
        regions
    )
    assert regions["cn-hangzhou"].local_name and regions["cn-hangzhou"].status == "available"


def test_it_lists_the_zones_of_a_region_with_their_gpu_types(ecs):
    body = ecs.describe_zones(m.DescribeZonesRequest(region_id="cn-hangzhou")).body
    helpers.assert_typed(body)
    zones = {z.zone_id: z for z in body.zones.zone}
    assert "cn-hangzhou-i" in zones
    zone = zones["cn-hangzhou-i"]
    helpers.require(zone, "local_name", "available_instance_types.instance_types")
    assert helpers.T4 in zone.available_instance_types.instance_types


def test_it_refuses_an_unknown_region(ecs):
    with pytest.raises(ClientException) as caught:
        ecs.describe_zones(m.DescribeZonesRequest(region_id="mars-north-1"))
    assert caught.value.code == "InvalidRegionId.NotFound"
    assert caught.value.status_code == 404


def test_it_describes_gpu_instance_types_and_filters_them(ecs):
    body = ecs.describe_instance_types(
        m.DescribeInstanceTypesRequest(instance_types=[helpers.T4, "ecs.gn7e-c16g1.4xlarge"])
    ).body
    helpers.assert_typed(body)
    kinds = {k.instance_type_id: k for k in body.instance_types.instance_type}
    assert set(kinds) == {helpers.T4, "ecs.gn7e-c16g1.4xlarge"}
    t4 = kinds[helpers.T4]
    helpers.require(t4, "cpu_core_count", "memory_size", "gpuamount", "gpuspec", "gpumemory_size")
    assert (t4.cpu_core_count, t4.memory_size, t4.gpuspec) == (4, 15.0, "NVIDIA T4")
    assert kinds["ecs.gn7e-c16g1.4xlarge"].gpuspec == "NVIDIA A100"

    family = ecs.describe_instance_types(
        m.DescribeInstanceTypesRequest(instance_type_family="ecs.gn7i")
    ).body
    assert {k.instance_type_id for k in family.instance_types.instance_type} == {
        "ecs.gn7i-c8g1.2xlarge",
        "ecs.gn7i-c16g1.4xlarge",
        "ecs.gn7i-c32g1.8xlarge",
    }


def test_available_resource_follows_live_stock(sim, ecs):
    sim.set_stock("cn-hangzhou-k", "ecs.gn7e-c16g1.4xlarge", 0)
    request = m.DescribeAvailableResourceRequest(
        region_id="cn-hangzhou",
        destination_resource="InstanceType",
        zone_id="cn-hangzhou-k",
        instance_charge_type="PostPaid",
    )
    body = ecs.describe_available_resource(request).body
    helpers.assert_typed(body)
    zone = body.available_zones.available_zone[0]
    helpers.require(zone, "zone_id", "status", "status_category", "region_id")
    supported = {
        s.value: s
        for s in zone.available_resources.available_resource[
            0
        ].supported_resources.supported_resource
    }
    assert (
        supported["ecs.gn7e-c16g1.4xlarge"].status,
        supported["ecs.gn7e-c16g1.4xlarge"].status_category,
    ) == (
        "SoldOut",
        "WithoutStock",
    )
    sim.set_stock("cn-hangzhou-k", "ecs.gn7e-c16g1.4xlarge", 2)
    body = ecs.describe_available_resource(request).body
    zone = body.available_zones.available_zone[0]
    supported = {
        s.value: s
        for s in zone.available_resources.available_resource[
            0
        ].supported_resources.supported_resource
    }
    assert supported["ecs.gn7e-c16g1.4xlarge"].status == "Available"
    assert supported["ecs.gn7e-c16g1.4xlarge"].status_category == "WithStock"


def test_available_zones_for_a_type(sim, ecs):
    sim.set_stock("cn-hangzhou-h", "ecs.gn6v-c8g1.2xlarge", 3)
    body = ecs.describe_available_resource(
        m.DescribeAvailableResourceRequest(
            region_id="cn-hangzhou",
            destination_resource="Zone",
            instance_type="ecs.gn6v-c8g1.2xlarge",
        )
    ).body
    zones = {z.zone_id: z for z in body.available_zones.available_zone}
    # gn6v is offered in one Hangzhou zone only, which is retiring it: ClosedWithStock.
    assert set(zones) == {"cn-hangzhou-h"}
    assert (zones["cn-hangzhou-h"].status, zones["cn-hangzhou-h"].status_category) == (
        "Available",
        "ClosedWithStock",
    )
    resource = zones["cn-hangzhou-h"].available_resources.available_resource[0]
    assert resource.type == "Zone"


def test_it_prices_an_hour_with_disk_and_bandwidth_as_separate_lines(ecs):
    body = ecs.describe_price(
        m.DescribePriceRequest(
            region_id="cn-hangzhou",
            resource_type="instance",
            instance_type=helpers.T4,
            price_unit="Hour",
            internet_charge_type="PayByBandwidth",
            internet_max_bandwidth_out=10,
            system_disk=m.DescribePriceRequestSystemDisk(category="cloud_essd", size=100),
        )
    ).body
    helpers.assert_typed(body)
    price = body.price_info.price
    helpers.require(price, "original_price", "discount_price", "trade_price", "currency")
    lines = {d.resource: d for d in price.detail_infos.detail_info}
    assert set(lines) == {"instanceType", "systemDisk", "bandwidth"}
    assert lines["instanceType"].trade_price == pytest.approx(8.40)
    assert lines["systemDisk"].trade_price == pytest.approx(0.15)
    assert lines["bandwidth"].trade_price == pytest.approx(1.25)
    assert price.trade_price == pytest.approx(9.80)
    assert price.currency == "CNY"
    assert body.price_info.rules.rule == []


def test_traffic_billing_costs_nothing_per_hour(ecs):
    body = ecs.describe_price(
        m.DescribePriceRequest(
            region_id="cn-hangzhou",
            instance_type=helpers.T4,
            internet_charge_type="PayByTraffic",
            internet_max_bandwidth_out=50,
        )
    ).body
    lines = {d.resource: d for d in body.price_info.price.detail_infos.detail_info}
    assert lines["bandwidth"].trade_price == 0


def test_a_year_is_charged_as_ten_months(ecs):
    month = ecs.describe_price(
        m.DescribePriceRequest(
            region_id="cn-hangzhou", instance_type=helpers.A10, price_unit="Month"
        )
    ).body.price_info.price
    year = ecs.describe_price(
        m.DescribePriceRequest(
            region_id="cn-hangzhou", instance_type=helpers.A10, price_unit="Year", period=1
        )
    ).body.price_info
    assert year.price.original_price == pytest.approx(month.trade_price * 12)
    assert year.price.trade_price == pytest.approx(month.trade_price * 10)
    assert year.price.discount_price == pytest.approx(month.trade_price * 2)
    helpers.require(year, "rules.rule.0.rule_id", "rules.rule.0.description")


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"instance_type": "ecs.nope"}, "InvalidInstanceType.ValueNotSupported"),
        ({"price_unit": "Decade"}, "InvalidParameter"),
        ({"price_unit": "Week", "period": 9}, "InvalidPeriod"),
        ({"zone_id": "cn-shanghai-e"}, "InvalidZoneId.NotFound"),
    ],
)
def test_describe_price_validates_its_parameters(ecs, overrides, code):
    values = {"region_id": "cn-hangzhou", "instance_type": helpers.T4, **overrides}
    with pytest.raises(ClientException) as caught:
        ecs.describe_price(m.DescribePriceRequest(**values))
    assert caught.value.code == code


def test_region_and_zone_names_come_in_the_accepted_language(ecs):
    def regions(**language):
        body = ecs.describe_regions(m.DescribeRegionsRequest(**language)).body
        return {r.region_id: r.local_name for r in body.regions.region}

    assert regions()["cn-hangzhou"] == "华东1\uff08杭州\uff09"
    assert regions(accept_language="en-US")["cn-hangzhou"] == "China East 1 (Hangzhou)"
    request = m.DescribeZonesRequest(region_id="cn-hangzhou", accept_language="en-US")
    zones = {z.zone_id: z.local_name for z in ecs.describe_zones(request).body.zones.zone}
    assert zones["cn-hangzhou-i"] == "Hangzhou Zone I"

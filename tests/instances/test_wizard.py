"""The create wizard against cloudsim: stock, prices, inline errors that keep the input."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.test import Client

from cloud import ecs
from instances.models import ServiceInstance
from operations.models import Operation

pytestmark = pytest.mark.django_db


@pytest.fixture
def browser(alice) -> Client:
    client = Client()
    client.force_login(alice)
    return client


def offer() -> tuple[str, str]:
    entry = next(
        a
        for a in ecs.describe_available_resource("cn-hangzhou")
        if a.in_stock and a.instance_type == "ecs.gn6i-c4g1.xlarge"
    )
    return entry.zone_id, entry.instance_type


def form_data(**changes) -> dict:
    zone, instance_type = offer()
    data = {
        "name": "wizard-1",
        "template": "sd-webui",
        "region": "cn-hangzhou",
        "zone": zone,
        "instance_type": instance_type,
        "charge_type": "PostPaid",
        "period": "1",
        "network": "new",
        "vpc_cidr": "192.168.0.0/16",
        "vswitch_cidr": "192.168.0.0/24",
        "vpc_id": "",
        "vswitch_id": "",
        "host_password": "",
    }
    data.update(changes)
    return data


def test_the_wizard_lists_types_with_stock_and_hourly_prices(sim, browser) -> None:
    zone, instance_type = offer()
    page = browser.get(f"/instances/new/?region=cn-hangzhou&zone={zone}").content.decode()
    assert instance_type in page and "In stock" in page and "per hour" in page
    price = ecs.describe_price(
        "cn-hangzhou", zone_id=zone, instance_type=instance_type, price_unit="Hour"
    )
    assert f"{price.trade} CNY" in page
    types = browser.get(
        f"/instances/new/types/?region=cn-hangzhou&zone={zone}&charge_type=PrePaid&period=3"
    ).content.decode()
    assert "per month" in types


def test_sold_out_types_are_shown_but_not_selectable(sim, browser) -> None:
    zone, instance_type = offer()
    sim.set_stock(zone, instance_type, 0)
    try:
        page = browser.get(
            f"/instances/new/types/?region=cn-hangzhou&zone={zone}&charge_type=PostPaid"
        ).content.decode()
        option = re.search(rf'<input[^>]*value="{re.escape(instance_type)}"[^>]*>', page).group(0)
        assert "disabled" in option and "Sold out" in page
    finally:
        sim.set_stock(zone, instance_type, 50)


def test_the_summary_says_what_it_costs_per_hour_and_month(sim, browser) -> None:
    summary = browser.post("/instances/new/summary/", form_data()).content.decode()
    assert "per hour" in summary and "per month if it never stops" in summary
    assert "Save-stopped it still costs" in summary
    prepaid = browser.post("/instances/new/summary/", form_data(charge_type="PrePaid")).content
    assert "Stopping a subscription host saves nothing" in prepaid.decode()


def test_an_invalid_cidr_is_shown_inline_and_the_rest_is_kept(sim, browser) -> None:
    response = browser.post(
        "/instances/new/",
        form_data(vpc_cidr="10.0.0.0/33", name="kept-name", host_password="Abc123!xyz"),
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "must be an IPv4 CIDR block" in page
    assert 'value="kept-name"' in page and 'value="10.0.0.0/33"' in page
    assert 'value="Abc123!xyz"' in page
    assert re.search(r'value="ecs.gn6i-c4g1.xlarge"[^>]*checked', page)
    assert (
        response["Cache-Control"].find("no-store") >= 0 or "max-age=0" in response["Cache-Control"]
    )
    assert not ServiceInstance.objects.exists()


def test_a_weak_host_password_and_a_vswitch_outside_the_vpc_are_field_errors(sim, browser) -> None:
    page = browser.post(
        "/instances/new/",
        form_data(host_password="password", vswitch_cidr="10.1.0.0/24"),
    ).content.decode()
    assert "at least three of" in page
    assert "must lie inside the VPC CIDR block" in page


def test_a_valid_form_deploys_and_opens_the_instance_page(sim, browser) -> None:
    response = browser.post("/instances/new/", form_data(name="from-wizard"))
    instance = ServiceInstance.objects.get(name="from-wizard")
    assert response.status_code == 302
    assert response["Location"] == f"/instances/{instance.public_id}/"
    operation = Operation.objects.get(instance=instance)
    assert (operation.kind, operation.source) == ("deploy", "dashboard")
    assert instance.host_password == ""


def test_types_are_sorted_by_gpu_memory_and_price(sim, browser) -> None:
    zone, _type = offer()
    page = browser.get(
        f"/instances/new/types/?region=cn-hangzhou&zone={zone}&charge_type=PostPaid"
    ).content.decode()
    rows = re.findall(
        r'<strong class="mono">([^<]+)</strong>\s*<span class="small">(\d+) \u00d7 ([^(]+) \(.*?'
        r"(\d+) vCPU, (\d+) GiB</span>.*?<strong>([\d.]+) CNY</strong>",
        page,
        re.DOTALL,
    )
    assert len(rows) >= 3
    keys = [
        (spec.strip(), int(amount), int(memory), float(price))
        for _t, amount, spec, _c, memory, price in rows
    ]
    assert keys == sorted(keys)


def test_the_resize_dialog_gives_each_types_vcpus_memory_and_price(sim, team, browser) -> None:
    from tests.factories import make_instance

    zone, instance_type = offer()
    stopped = make_instance(
        team, status="stopped", zone=zone, instance_type=instance_type, stopped_mode="StopCharging"
    )
    page = browser.get(f"/instances/{stopped.public_id}/").content.decode()
    options = re.findall(r'<option value="(ecs\.[^"]+)"[^>]*>([^<]+)</option>', page)
    assert options and all("vCPU" in text and "GiB" in text for _v, text in options)
    assert any(re.search(r"[\d.]+ CNY per hour", text) for _v, text in options)


def test_region_and_zone_names_follow_the_pages_language(sim, browser) -> None:
    zone, _type = offer()
    english = browser.get(f"/instances/new/?region=cn-hangzhou&zone={zone}").content.decode()
    assert "China East 1 (Hangzhou)" in english and "Hangzhou Zone" in english
    assert "华东1\uff08杭州\uff09" not in english
    browser.post("/account/language/", {"language": "zh-hans", "next": "/"})
    chinese = browser.get(f"/instances/new/?region=cn-hangzhou&zone={zone}").content.decode()
    assert "华东1\uff08杭州\uff09" in chinese and "杭州 可用区" in chinese


def test_the_system_disk_and_bandwidth_are_chosen_with_their_price(sim, browser) -> None:
    def total(**changes) -> float:
        page = browser.post("/instances/new/summary/", form_data(**changes)).content.decode()
        found = re.search(r'<p class="summary-total">([\d.]+) CNY per hour', page)
        assert found, page
        return float(found.group(1))

    base = total()
    bigger = total(system_disk_size="1000", bandwidth_out="50")
    assert bigger > base
    assert (
        "1000 GB cloud_essd, 50 Mbit/s"
        in browser.post(
            "/instances/new/summary/", form_data(system_disk_size="1000", bandwidth_out="50")
        ).content.decode()
    )

    browser.post(
        "/instances/new/",
        form_data(name="disk-choice", system_disk_category="cloud_ssd", system_disk_size="500"),
    )
    created = ServiceInstance.objects.get(name="disk-choice")
    assert (created.system_disk_category, created.system_disk_size, created.bandwidth_out) == (
        "cloud_ssd",
        500,
        10,
    )


def listed_prices(page: str) -> dict[str, Decimal]:
    rows = re.findall(
        r'<strong class="mono">([^<]+)</strong>.*?<strong>([\d.]+) CNY</strong>', page, re.DOTALL
    )
    return {instance_type: Decimal(price) for instance_type, price in rows}


def test_the_listed_prices_follow_the_chosen_disk_and_bandwidth(sim, browser) -> None:
    zone, instance_type = offer()
    types = f"/instances/new/types/?region=cn-hangzhou&zone={zone}&charge_type=PostPaid"
    default = listed_prices(browser.get(types).content.decode())
    choice = "&system_disk_category=cloud_efficiency&system_disk_size=1000&bandwidth_out=50"
    chosen = listed_prices(browser.get(types + choice).content.decode())

    # What the cloud says the disk and bandwidth add per hour, whatever the instance type.
    def quote(**fields) -> Decimal:
        price = ecs.describe_price(
            "cn-hangzhou", zone_id=zone, instance_type=instance_type, price_unit="Hour", **fields
        )
        return Decimal(str(price.trade))

    difference = (
        quote(system_disk_category="cloud_efficiency", system_disk_size=1000, bandwidth_out=50)
        - quote()
    )
    assert difference > 0
    in_stock = [t for t in default if t in chosen]
    assert len(in_stock) >= 3 and set(default) == set(chosen)
    for listed in in_stock:
        assert chosen[listed] - default[listed] == difference, listed

    # The whole page (the wizard after a region or a reload) lists the same prices.
    page = browser.get(f"/instances/new/?region=cn-hangzhou&zone={zone}{choice}").content.decode()
    assert listed_prices(page) == chosen
    # So does the summary for the selected type, and a smaller disk is cheaper than the default.
    summary = browser.post(
        "/instances/new/summary/",
        form_data(
            system_disk_category="cloud_efficiency", system_disk_size="1000", bandwidth_out="50"
        ),
    ).content.decode()
    assert f"{chosen[instance_type]:.2f} CNY per hour" in summary
    smaller = listed_prices(
        browser.get(types + "&system_disk_size=40&bandwidth_out=1").content.decode()
    )
    assert all(smaller[t] < default[t] for t in in_stock)


def test_the_type_list_refreshes_when_the_disk_or_bandwidth_changes(sim, browser) -> None:
    zone, _type = offer()
    page = browser.get(f"/instances/new/?region=cn-hangzhou&zone={zone}").content.decode()
    type_list = re.search(r'<div id="type-list"[^>]*>', page).group(0)
    for name in ("system_disk_category", "system_disk_size", "bandwidth_out"):
        assert f"change from:[name={name}]" in type_list and f"[name={name}]" in type_list

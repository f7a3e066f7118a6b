"""An operator's day in a real browser: deploy through the wizard, reveal, stop, switch
language, make a mistake, and an outsider who guesses a URL."""

from __future__ import annotations

import re

import pytest

from instances.models import ServiceInstance
from tests.browser.conftest import log_in
from tests.factories import make_instance

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_deploy_through_the_wizard_reveal_and_stop(page, live_server, sim, worker, alice) -> None:
    log_in(page, live_server, "alice")
    page.click("text=Deploy a WebUI host")
    page.fill("#id_name", "browser-1")
    page.locator("label.type-option:not(.sold-out)").first.click()
    page.fill("#id_host_password", "weak")
    assert "met" not in (page.locator("[data-rule=kinds]").get_attribute("class") or "")
    page.fill("#id_host_password", "Str0ng!Pass")
    assert "met" in page.locator("[data-rule=kinds]").get_attribute("class")
    page.wait_for_selector("#summary :text('per hour')")
    page.click("button:has-text('Deploy')")

    page.wait_for_url(re.compile(r".*/instances/si-[a-z0-9]{12}/$"))
    page.wait_for_selector("#live .badge:has-text('Running')", timeout=90_000)
    instance = ServiceInstance.objects.get(name="browser-1")
    assert instance.status == "running"

    page.click("button:has-text('Reveal the password')")
    page.wait_for_selector("#cred-password")
    assert page.input_value("#cred-password") == instance.webui_password

    page.click("button:has-text('Stop…')")
    page.check("input[name=mode][value=StopCharging]")
    page.click("#stop-dialog button[type=submit]")
    page.wait_for_selector("#live .badge:has-text('Stopped')", timeout=60_000)
    assert page.locator("text=save-stopped: only the disk is billed").is_visible()


def test_chinese_navigation_and_status_names(page, live_server, alice, team) -> None:
    make_instance(team, name="zh-host", status="running")
    log_in(page, live_server, "alice")
    page.select_option("#language-switcher", "zh-hans")
    page.wait_for_selector("nav >> text=实例")
    assert page.locator("nav >> text=操作记录").is_visible()
    assert page.locator(".badge:has-text('运行中')").is_visible()
    assert page.locator("html").get_attribute("lang") == "zh-Hans"


def test_an_invalid_cidr_shows_a_field_error_and_keeps_the_rest(
    page, live_server, sim, alice
) -> None:
    log_in(page, live_server, "alice")
    page.goto(f"{live_server.url}/instances/new/")
    page.fill("#id_name", "kept-1")
    page.locator("label.type-option:not(.sold-out)").first.click()
    page.fill("#id_vpc_cidr", "10.0.0.0/33")
    page.click("button:has-text('Deploy')")
    page.wait_for_selector("#form-errors")
    error = page.locator(".has-error:has(#id_vpc_cidr) .field-error")
    assert "IPv4 CIDR block" in error.inner_text()
    assert page.input_value("#id_name") == "kept-1"
    assert page.input_value("#id_vpc_cidr") == "10.0.0.0/33"
    assert page.locator("input[name=instance_type]:checked").count() == 1
    assert not ServiceInstance.objects.exists()


def test_an_outsider_opening_an_instance_url_gets_the_404_page(
    page, live_server, team, mallory
) -> None:
    instance = make_instance(team, name="private-host")
    log_in(page, live_server, "mallory")
    response = page.goto(f"{live_server.url}/instances/{instance.public_id}/")
    assert response.status == 404
    assert page.locator("text=not yours to see").is_visible()
    assert "private-host" not in page.content()


def test_changing_the_bandwidth_prices_the_type_list_again_in_place(
    page, live_server, sim, alice
) -> None:
    log_in(page, live_server, "alice")
    page.goto(f"{live_server.url}/instances/new/")
    page.locator("label.type-option:not(.sold-out)").first.click()
    page.wait_for_selector("#summary :text('per hour')")

    def first_price() -> str:
        return page.locator("#type-list label.type-option .price strong").first.inner_text()

    before = first_price()
    page.fill("#id_bandwidth_out", "50")
    page.dispatch_event("#id_bandwidth_out", "change")
    # 40 Mbit/s more at cloudsim's 0.125 CNY per Mbit/s and hour: 5.00 CNY more per type.
    page.wait_for_function(
        "before => document.querySelector('#type-list .price strong').innerText !== before",
        arg=before,
    )
    added = float(first_price().split()[0]) - float(before.split()[0])
    assert round(added, 2) == 5.0
    # The list stays where it is; the summary stays a summary.
    assert page.locator("#summary .type-option").count() == 0
    assert page.locator("#type-list input[name=instance_type]:checked").count() == 1
    page.wait_for_selector("#summary :text('50 Mbit/s')")

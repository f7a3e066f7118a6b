"""Takes the README's screenshots of the dashboard: `make screenshots`.

Runs a throw-away nestops (its own SQLite database, filesystem broker and cloudsim in a
temporary folder), deploys a few hosts through real operations, then captures the main pages
with Playwright driving Debian's Chromium into docs/screenshots/.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "screenshots"
CHROMIUM = os.environ.get("NESTOPS_CHROMIUM", "/usr/bin/chromium")
ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="nestops-screenshots-"))
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"):
        os.environ.pop(name, None)
    sys.path.insert(0, str(ROOT))
    from cloudsim.testing import start_sim

    sim = start_sim(work / "cloudsim", speed=20)
    port = free_port()
    env = {
        **os.environ,
        "NESTOPS_VAR_DIR": str(work / "var"),
        "NESTOPS_SIM_ENDPOINT": sim.endpoint,
        "NESTOPS_POLL_SECONDS": "0.5",
        "NESTOPS_LOG_LEVEL": "WARNING",
        "DJANGO_SETTINGS_MODULE": "nestops.settings",
    }
    os.environ.update(env)
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    call_command("migrate", "--noinput", verbosity=0)
    processes = [
        subprocess.Popen(
            [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        ),
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "nestops",
                "worker",
                "--pool",
                "threads",
                "--concurrency",
                "4",
                "--loglevel",
                "WARNING",
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        ),
    ]
    try:
        capture(port, sim, get_user_model())
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=20)
        sim.stop()


def wait(predicate, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.5)
    raise RuntimeError("timed out")


def capture(port: int, sim, users) -> None:
    from accounts.models import Membership, Role, Team
    from accounts.requester import Requester
    from cloud import ecs
    from instances.models import ServiceInstance
    from instances.services import NewInstance
    from operations.models import Kind
    from operations.services import request_deploy, request_operation

    team = Team.objects.create(name="Studio", slug="studio")
    user = users.objects.create_user("operator", password="screenshots-1")
    Membership.objects.create(user=user, team=team, role=Role.ADMIN)
    zone = next(
        a.zone_id
        for a in ecs.describe_available_resource("cn-hangzhou")
        if a.in_stock and a.instance_type == "ecs.gn7i-c8g1.2xlarge"
    )
    specs = [
        ("sdxl-studio", "ecs.gn7i-c8g1.2xlarge"),
        ("lora-training", "ecs.gn6i-c4g1.xlarge"),
        ("night-batch", "ecs.gn6i-c8g1.2xlarge"),
    ]
    created = [
        request_deploy(
            spec=NewInstance(
                team=team,
                name=name,
                template="sd-webui",
                region="cn-hangzhou",
                zone=zone,
                instance_type=kind,
            ),
            requester=Requester(source="dashboard", actor=user),
        )[0]
        for name, kind in specs
    ]
    wait(lambda: all(ServiceInstance.objects.get(pk=i.pk).status == "running" for i in created))
    request_operation(
        instance=created[2],
        kind=Kind.STOP,
        params={"mode": "StopCharging"},
        requester=Requester(source="dashboard", actor=user),
    )
    wait(lambda: ServiceInstance.objects.get(pk=created[2].pk).status == "stopped")
    request_deploy(
        spec=NewInstance(
            team=team,
            name="forge-test",
            template="sd-webui-forge",
            region="cn-hangzhou",
            zone=zone,
            instance_type="ecs.gn6i-c4g1.xlarge",
        ),
        requester=Requester(source="api", actor=user),
    )

    # A download that fails (the sandbox's hosts resolve no name): the Models tab shows it
    # with its explanation, Retry and Dismiss.
    from hostfiles.services import request_download
    from operations.models import Operation

    failed, _created = request_download(
        instance=created[0],
        url="https://huggingface.co/org/repo/resolve/main/detail_tweaker.safetensors",
        kind="lora",
        requester=Requester(source="dashboard", actor=user),
    )
    wait(lambda: Operation.objects.get(pk=failed.pk).status == "failed")
    wait(
        lambda: (
            not Operation.objects.filter(
                instance=created[0], kind=Kind.REFRESH_INVENTORY, status__in=("pending", "running")
            ).exists()
        )
    )

    # Model files with previews put on the first host by other means: the inventory finds
    # them and the Models tab shows their thumbnails.
    import io

    from PIL import Image

    from hostfiles.models import ModelFile
    from hostfiles.services import request_inventory_refresh

    instance = ServiceInstance.objects.get(pk=created[0].pk)
    webui = (
        Path(sim.instance(instance.cloud_instance_id)["sandbox"]) / "root/stable-diffusion-webui"
    )
    for name, colour in (("watercolor_style", (70, 130, 180)), ("ink_lines", (200, 90, 60))):
        lora = webui / "models/Lora"
        lora.mkdir(parents=True, exist_ok=True)
        (lora / f"{name}.safetensors").write_bytes(os.urandom(4096))
        buffer = io.BytesIO()
        picture = Image.new("RGB", (512, 512), colour)
        picture.paste((250, 240, 220), (128, 128, 384, 384))
        picture.save(buffer, format="PNG")
        (lora / f"{name}.preview.png").write_bytes(buffer.getvalue())
    request_inventory_refresh(
        instance=instance, requester=Requester(source="dashboard", actor=user)
    )
    wait(
        lambda: ModelFile.objects.filter(instance=instance).exclude(thumbnail_etag="").count() == 2
    )

    from playwright.sync_api import sync_playwright

    base = f"http://127.0.0.1:{port}"
    OUT.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        page.goto(f"{base}/accounts/login/")
        page.fill("#id_username", "operator")
        page.fill("#id_password", "screenshots-1")
        page.click("button[type=submit]")
        page.wait_for_url(f"{base}/")
        page.screenshot(path=str(OUT / "instances.png"), full_page=True)
        page.goto(f"{base}/instances/new/")
        page.fill("#id_name", "webui-new")
        page.locator("label.type-option:not(.sold-out)").nth(1).click()
        page.wait_for_selector("#summary :text('per hour')")
        page.fill("#id_system_disk_size", "500")
        page.fill("#id_bandwidth_out", "50")
        page.dispatch_event("#id_bandwidth_out", "change")
        # The type list and the summary are priced again for that disk and bandwidth.
        page.wait_for_selector("#summary :text('50 Mbit/s')")
        page.wait_for_timeout(1000)
        page.screenshot(path=str(OUT / "create-wizard.png"), full_page=True)
        page.goto(f"{base}/instances/{created[0].public_id}/")
        page.click("button:has-text('Reveal the password')")
        page.wait_for_selector("#cred-password")
        page.click("summary:has-text('Call the WebUI API')")
        page.screenshot(path=str(OUT / "instance.png"), full_page=True)
        page.goto(f"{base}/instances/{created[0].public_id}/files/")
        page.screenshot(path=str(OUT / "models-and-extensions.png"), full_page=True)
        page.goto(f"{base}/account/notifications/")
        page.fill("#channel-name", "Ops DingTalk")
        page.select_option("#channel-type", "dingtalk")
        page.fill("#channel-target", "https://oapi.dingtalk.com/robot/send?access_token=example")
        page.click("#add-channel-title ~ form button[type=submit]")
        page.wait_for_selector("text=Send a test")
        page.screenshot(path=str(OUT / "notifications.png"), full_page=True)
        page.goto(f"{base}/account/model-site-tokens/")
        page.fill("#token-input-huggingface", "hf_exampletoken123")
        page.click("#token-huggingface ~ form button.primary")
        page.wait_for_selector("text=Replace")
        page.screenshot(path=str(OUT / "model-site-tokens.png"), full_page=True)
        page.goto(f"{base}/operations/")
        page.screenshot(path=str(OUT / "operations.png"), full_page=True)
        page.goto(f"{base}/costs/")
        page.screenshot(path=str(OUT / "costs.png"), full_page=True)
        page.goto(f"{base}/")
        page.select_option("#language-switcher", "zh-hans")
        page.wait_for_selector("nav >> text=实例")
        page.screenshot(path=str(OUT / "instances-zh.png"), full_page=True)
        browser.close()
    print(f"screenshots written to {OUT}")


if __name__ == "__main__":
    main()

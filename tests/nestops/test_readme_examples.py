"""The shell examples of README's API section run as written, one after another in one shell,
against a live server, cloudsim, a Celery worker and the WebUI gateway. Only what a reader's
machine supplies differs: the token (created here instead of by manage.py in another process),
the server's and the gateway's ports, and the model site (a local file server)."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model

from accounts.models import Membership, Role, Team
from accounts.services import issue_token
from budgets.models import Budget
from instances.models import ServiceInstance, Status
from tests.e2e import conftest as e2e_fixtures
from tests.webgateway import conftest as gateway_fixtures

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

README = Path(__file__).resolve().parents[2] / "README.md"
TOKEN_LINE = "TOKEN=$(.venv/bin/python manage.py create_token admin --name scripts)"
MODEL_URL = "https://huggingface.co/org/repo/resolve/main/detail.safetensors"

gateway = gateway_fixtures.gateway
worker = e2e_fixtures.worker
broker = e2e_fixtures.broker
fast_operations = e2e_fixtures.fast_operations


def api_blocks() -> list[str]:
    text = README.read_text(encoding="utf-8")
    section = text[text.index("\n## The API\n") :]
    section = section[: section.index("\n## ", 1)]
    return re.findall(r"```sh\n(.*?)```", section, re.DOTALL)


def run_in_bash(script: str, path: Path, *, timeout: int) -> subprocess.CompletedProcess[str]:
    """Runs ``script`` as a reader's shell would (stopping at the first failure) and asserts
    that it ran to its end."""
    path.write_text("set -euo pipefail\n" + script)
    environment = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
    ran = subprocess.run(
        ["bash", str(path)], env=environment, capture_output=True, text=True, timeout=timeout
    )
    assert ran.returncode == 0, ran.stdout[-3000:] + ran.stderr[-3000:]
    return ran


def test_the_api_section_has_its_examples() -> None:
    blocks = api_blocks()
    assert len(blocks) == 3
    script = "\n".join(blocks)
    assert TOKEN_LINE in script and MODEL_URL in script
    # Nothing left for the reader to fill in.
    assert "…" not in script and "si-" not in script and "op-" not in script


def test_the_readme_api_examples_run_verbatim(
    sim, worker, gateway, live_server, local_sources, files, settings, tmp_path
) -> None:
    settings.NESTOPS_POLL_SECONDS = 0.2
    admin = get_user_model().objects.create_superuser(username="admin", password="x" * 20)
    team, _ = Team.objects.get_or_create(slug="default", defaults={"name": "Default"})
    Membership.objects.create(user=admin, team=team, role=Role.ADMIN)
    _token, token = issue_token(user=admin, name="scripts", expires_at=None, via="create_token")
    model_url = files.add("detail.safetensors", os.urandom(20_000))

    script = "\n".join(api_blocks())
    script = script.replace(TOKEN_LINE, f"TOKEN={token}")
    script = script.replace("http://127.0.0.1:8000", live_server.url)
    script = script.replace(".localhost:8001", f".localhost:{gateway.port}")
    script = script.replace(MODEL_URL, model_url)
    ran = run_in_bash(script, tmp_path / "readme.sh", timeout=300)

    instance = ServiceInstance.objects.get(name="webui-1", team=team)
    assert instance.status == Status.RUNNING  # started again for the WebUI example
    lines = ran.stdout.splitlines()
    assert sum(line.endswith(" succeeded") for line in lines) == 4, ran.stdout[-3000:]
    assert "detail.safetensors" in ran.stdout
    assert "a lighthouse" in lines[-1] and "Steps: 20" in lines[-1]
    budget = Budget.objects.get(team=team)
    assert (budget.amount, budget.stop_at_limit) == (5000, True)

    # The billing block again: the team has its budget now, and the example says so plainly
    # instead of stopping the reader's script.
    setup = "\n".join(
        line for line in script.splitlines() if line.startswith(("TOKEN=", "API=", "AUTH="))
    )
    again = run_in_bash(setup + "\n" + api_blocks()[1], tmp_path / "again.sh", timeout=120)
    assert f"already has a budget, {budget.public_id}" in again.stdout
    assert Budget.objects.filter(team=team).count() == 1

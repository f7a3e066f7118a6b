"""Extensions installed, updated and removed on cloudsim hosts from a local git server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from accounts.requester import Requester, Source
from hostfiles import services as host_files
from hostfiles.models import Extension
from operations.models import OperationStatus
from operations.services import OperationRefused
from tests.driving import drive
from tests.gitserver import GitServer, serve_git
from tests.hosts import instance_on

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("fast_runner", "local_sources"),
]


@pytest.fixture
def git_server(tmp_path: Path) -> Iterator[GitServer]:
    with serve_git(tmp_path / "git") as server:
        yield server


def test_an_extension_is_installed_at_a_tag_updated_and_removed(
    sim, team, alice, shared_host, git_server
) -> None:
    _work, tagged = git_server.repository("someone", "sd-ext-one", {"install.py": "v1\n"})
    git_server.tag("someone", "sd-ext-one", "v1.0")
    _work, newer = git_server.repository("someone", "sd-ext-one", {"install.py": "v2\n"})
    instance = instance_on(team, shared_host)
    folder = shared_host.webui_dir / "extensions/sd-ext-one"

    install, _ = host_files.request_extension_install(
        instance=instance,
        url=git_server.url("someone", "sd-ext-one") + ".git/",
        ref="v1.0",
        requester=Requester(source=Source.API, actor=alice),
    )
    assert install.params["name"] == "sd-ext-one"
    done = drive(install, sim)
    assert done.status == OperationStatus.SUCCEEDED, done.log
    assert (folder / "install.py").read_text() == "v1\n"
    assert "sd-webui restarted" in done.log
    assert (shared_host.sandbox / "run/sd-webui.state").read_text().strip() == "active"
    extension = Extension.objects.get(instance=instance)
    assert (extension.name, extension.ref, extension.commit) == ("sd-ext-one", "v1.0", tagged)
    assert extension.public_id.startswith("ext-")
    assert not list(shared_host.webui_dir.glob(".nestops-extension.*"))

    with pytest.raises(OperationRefused) as caught:
        host_files.request_extension_install(
            instance=instance,
            url=extension.remote_url,
            requester=Requester(source=Source.API, actor=alice),
        )
    assert caught.value.code == "extension_exists"

    update, _ = host_files.request_extension_update(
        extension=extension,
        ref="main",
        restart_webui=False,
        requester=Requester(source=Source.API, actor=alice),
    )
    updated = drive(update, sim)
    assert updated.status == OperationStatus.SUCCEEDED, updated.log
    assert (folder / "install.py").read_text() == "v2\n"
    assert "sd-webui restarted" not in updated.log
    extension.refresh_from_db()
    assert (extension.ref, extension.commit) == ("main", newer)

    remove, _ = host_files.request_extension_remove(
        extension=extension, requester=Requester(source=Source.API, actor=alice)
    )
    assert drive(remove, sim).status == OperationStatus.SUCCEEDED
    assert not folder.exists()
    assert not Extension.objects.filter(instance=instance).exists()


def test_github_urls_go_through_the_configured_mirror(
    sim, team, alice, shared_host, git_server, settings
) -> None:
    settings.NESTOPS_EXTENSION_HOSTS = ["github.com"]
    settings.NESTOPS_GITHUB_MIRROR = git_server.mirror
    _work, commit = git_server.repository("owner", "mirrored-ext", {"README.md": "hello\n"})
    operation, _ = host_files.request_extension_install(
        instance=instance_on(team, shared_host),
        url="https://github.com/owner/mirrored-ext",
        restart_webui=False,
        requester=Requester(source=Source.API, actor=alice),
    )
    assert operation.params["fetch_url"] == (
        git_server.mirror + "https://github.com/owner/mirrored-ext"
    )
    done = drive(operation, sim)
    assert done.status == OperationStatus.SUCCEEDED, done.log
    assert all(p.startswith("/mirror/https://github.com/owner/") for p in git_server.paths)
    extension = Extension.objects.get(name="mirrored-ext")
    assert extension.remote_url == "https://github.com/owner/mirrored-ext"
    assert extension.commit == commit


def test_a_repository_that_does_not_exist_fails_without_leaving_a_folder(
    sim, team, alice, shared_host, git_server
) -> None:
    operation, _ = host_files.request_extension_install(
        instance=instance_on(team, shared_host),
        url=git_server.url("nobody", "missing-ext"),
        requester=Requester(source=Source.API, actor=alice),
    )
    failed = drive(operation, sim)
    assert failed.status == OperationStatus.FAILED
    assert failed.error_code == "ScriptFailed"
    assert not (shared_host.webui_dir / "extensions/missing-ext").exists()
    assert not list(shared_host.webui_dir.glob(".nestops-extension.*"))

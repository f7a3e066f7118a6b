"""The download and extension scripts against loopback canaries: the outbound address policy
runs on the host for the URL and for every redirect hop, and nothing reaches an address it
refuses."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest

from tests.fileserver import serving
from tests.operations.test_host_scripts import WEBUI, download_arguments, host, run

__all__ = ["host"]  # the fixture, shared with the other host script tests

MODEL = b"safetensors of a tiny model"


@dataclass
class Canary:
    """A loopback server that counts what reaches it; ``redirects`` maps paths to Locations."""

    port: int = 0
    redirects: dict[str, str] = field(default_factory=dict)
    seen: list[str] = field(default_factory=list)


def _handler(canary: Canary) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _answer(self, body: bool) -> None:
            canary.seen.append(f"{self.command} {self.path}")
            location = canary.redirects.get(self.path)
            self.send_response(302 if location else 200)
            if location:
                self.send_header("Location", location)
            self.send_header("Content-Length", "0" if location else str(len(MODEL)))
            self.end_headers()
            if body and not location:
                self.wfile.write(MODEL)

        def do_HEAD(self) -> None:
            self._answer(body=False)

        def do_GET(self) -> None:
            self._answer(body=True)

    return Handler


@pytest.fixture
def canary() -> Iterator[Canary]:
    found = Canary()
    with serving(_handler(found)) as port:
        found.port = port
        yield found


@pytest.fixture
def origin() -> Iterator[Canary]:
    """A second server: the site whose answers redirect to the canary."""
    found = Canary()
    with serving(_handler(found)) as port:
        found.port = port
        yield found


def saved(host: Path) -> list[str]:
    return sorted(p.name for p in (host / WEBUI / "models/Lora").iterdir())


def loopback_spellings(port: int) -> list[str]:
    return [
        f"http://127.0.0.1:{port}/x.safetensors",
        f"http://localhost:{port}/x.safetensors",
        f"http://localhost.:{port}/x.safetensors",
        f"http://LocalHost:{port}/x.safetensors",
        f"http://2130706433:{port}/x.safetensors",
        f"http://0x7f.1:{port}/x.safetensors",
        f"http://0x7f000001:{port}/x.safetensors",
        f"http://0177.0.0.1:{port}/x.safetensors",
        f"http://127.1:{port}/x.safetensors",
        f"http://0:{port}/x.safetensors",
        f"http://[::ffff:127.0.0.1]:{port}/x.safetensors",
        f"http://[::127.0.0.1]:{port}/x.safetensors",
        f"http://{{127.0.0.1}}:{port}/x.safetensors",
        f"http://%31%32%37.0.0.1:{port}/x.safetensors",
        f"http://vm.example@127.0.0.1:{port}/x.safetensors",
        f"https://127.0.0.1:{port}/x.safetensors",
    ]


def test_no_spelling_of_loopback_reaches_it_when_private_sources_are_off(
    host: Path, canary: Canary
) -> None:
    for url in loopback_spellings(canary.port):
        result = run(host, "download_model", **download_arguments(URL=url, ALLOW_PRIVATE=0))
        assert result.returncode == 2 and "refused:" in result.stderr, (url, result.stderr)
    assert canary.seen == []
    assert saved(host) == []


def test_odd_spellings_are_refused_even_where_private_sources_are_on(
    host: Path, canary: Canary
) -> None:
    spellings = [u for u in loopback_spellings(canary.port) if "://127.0.0.1:" not in u]
    spellings = [u for u in spellings if "localhost:" not in u.lower()]
    for url in spellings:
        result = run(host, "download_model", **download_arguments(URL=url, ALLOW_PRIVATE=1))
        assert result.returncode == 2 and "refused:" in result.stderr, (url, result.stderr)
    assert canary.seen == []


@pytest.mark.parametrize(
    "location",
    [
        "http://[::ffff:100.100.100.200]/latest/meta-data/",
        "http://[::ffff:6464:64c8]/latest/meta-data/",
        "http://[64:ff9b::6464:64c8]/latest/meta-data/",
        "http://100.100.100.200/latest/meta-data/",
        "http://1684301000/latest/meta-data/",
        "http://0x64.0x64.0x64.0xc8/latest/meta-data/",
        "http://169.254.169.254/latest/meta-data/",
        "http://[fe80::1]:{port}/x.safetensors",
        "http://[::ffff:127.0.0.1]:{port}/x.safetensors",
        "http://127.0.0.1.:{port}/x.safetensors",
        "file:///etc/passwd",
        "gopher://127.0.0.1:{port}/x",
        "ftp://127.0.0.1:{port}/x",
    ],
)
def test_a_redirect_to_a_refused_address_is_never_followed(
    host: Path, origin: Canary, canary: Canary, location: str
) -> None:
    origin.redirects["/x.safetensors"] = location.format(port=canary.port)
    url = f"http://127.0.0.1:{origin.port}/x.safetensors"
    result = run(host, "download_model", **download_arguments(URL=url, ALLOW_PRIVATE=1))
    assert result.returncode == 2 and "refused:" in result.stderr, result.stderr
    assert canary.seen == []
    assert origin.seen == ["HEAD /x.safetensors"]
    assert saved(host) == []


def test_an_allowed_redirect_is_followed_one_checked_hop_at_a_time(
    host: Path, origin: Canary, canary: Canary
) -> None:
    origin.redirects["/x.safetensors"] = f"http://127.0.0.1:{canary.port}/files/x[1-3].bin"
    url = f"http://127.0.0.1:{origin.port}/x.safetensors"
    result = run(host, "download_model", **download_arguments(URL=url, ALLOW_PRIVATE=1))
    assert result.returncode == 0, result.stderr
    assert (host / WEBUI / "models/Lora/x.safetensors").read_bytes() == MODEL
    # Globbing is off: one path, not three; the origin is asked once and never again.
    assert canary.seen == ["HEAD /files/x[1-3].bin", "GET /files/x[1-3].bin"]
    assert origin.seen == ["HEAD /x.safetensors"]
    assert "redirected to 127.0.0.1" in result.stdout


def test_http_needs_private_sources_and_globs_are_literal(host: Path, canary: Canary) -> None:
    url = f"http://127.0.0.1:{canary.port}/x[1-3]{{a,b}}.safetensors"
    result = run(host, "download_model", **download_arguments(URL=url, ALLOW_PRIVATE=1))
    assert result.returncode == 0, result.stderr
    assert canary.seen == [
        "HEAD /x[1-3]{a,b}.safetensors",
        "GET /x[1-3]{a,b}.safetensors",
    ]


def extension_arguments(url: str, allow_private: int) -> dict[str, str | int]:
    return {
        "MODE": "install",
        "NAME": "ext",
        "URL": url,
        "REF": "",
        "RESTART": 0,
        "TIMEOUT": 5,
        "ALLOW_PRIVATE": allow_private,
    }


def test_no_extension_clone_reaches_a_refused_address(host: Path, canary: Canary) -> None:
    for url in loopback_spellings(canary.port):
        url = url.replace("/x.safetensors", "/o/ext")
        result = run(host, "install_extension", **extension_arguments(url, 0))
        assert result.returncode == 2 and "refused:" in result.stderr, (url, result.stderr)
    assert canary.seen == []
    assert list((host / WEBUI / "extensions").iterdir()) == []


def test_an_extension_clone_never_follows_a_redirect(
    host: Path, origin: Canary, canary: Canary
) -> None:
    path = "/o/ext/info/refs?service=git-upload-pack"
    origin.redirects[path] = f"http://127.0.0.1:{canary.port}{path}"
    url = f"http://127.0.0.1:{origin.port}/o/ext"
    result = run(host, "install_extension", **extension_arguments(url, 1))
    assert result.returncode != 0
    assert origin.seen == [f"GET {path}"]
    assert canary.seen == []
    assert list((host / WEBUI / "extensions").iterdir()) == []

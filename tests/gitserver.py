"""A git server over smart HTTP for tests: ``git http-backend`` behind a thread on 127.0.0.1.

Repositories are bare repositories in a folder, served as ``/<owner>/<name>``; the same
repositories answer under ``/mirror/https://github.com/<owner>/<name>``, which is how a
GitHub mirror prefix (NESTOPS_GITHUB_MIRROR) shapes the URLs it serves.
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

from tests.fileserver import serving

MIRROR_PREFIX = "/mirror/https://github.com"
REPOSITORY_PATH = re.compile(r"^/([^/]+)/([^/]+?)(?:\.git)?(/.*)$")
GIT_ENV = {
    "GIT_AUTHOR_NAME": "Test",
    "GIT_AUTHOR_EMAIL": "test@example.com",
    "GIT_COMMITTER_NAME": "Test",
    "GIT_COMMITTER_EMAIL": "test@example.com",
    "GIT_CONFIG_NOSYSTEM": "1",
    "HOME": "/nonexistent",
}


def git(*args: str, cwd: Path | None = None) -> str:
    result = subprocess.run(
        ["git", *args],
        cwd=cwd,
        env={**os.environ, **GIT_ENV},
        check=True,
        capture_output=True,
        text=True,
    )
    return result.stdout.strip()


@dataclass
class GitServer:
    root: Path
    port: int = 0
    paths: list[str] = field(default_factory=list)

    def url(self, owner: str, name: str) -> str:
        return f"http://127.0.0.1:{self.port}/{owner}/{name}"

    @property
    def mirror(self) -> str:
        return f"http://127.0.0.1:{self.port}/mirror/"

    def repository(self, owner: str, name: str, files: dict[str, str]) -> tuple[Path, str]:
        """Creates (or adds a commit to) a repository; returns its work tree and the commit."""
        work = self.root / "work" / owner / name
        bare = self.root / "repos" / owner / name
        if not work.exists():
            work.mkdir(parents=True)
            git("init", "-q", "-b", "main", str(work))
            bare.parent.mkdir(parents=True, exist_ok=True)
            git("init", "-q", "--bare", "-b", "main", str(bare))
            git("config", "uploadpack.allowReachableSHA1InWant", "true", cwd=bare)
            git("remote", "add", "origin", str(bare), cwd=work)
        for relative, text in files.items():
            (work / relative).parent.mkdir(parents=True, exist_ok=True)
            (work / relative).write_text(text)
        git("add", "-A", cwd=work)
        git("commit", "-q", "-m", "change", cwd=work)
        git("push", "-q", "origin", "main", cwd=work)
        return work, git("rev-parse", "HEAD", cwd=work)

    def tag(self, owner: str, name: str, tag: str) -> None:
        work = self.root / "work" / owner / name
        git("tag", tag, cwd=work)
        git("push", "-q", "origin", tag, cwd=work)


def _handler(server: GitServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            self._backend()

        def do_POST(self) -> None:
            self._backend()

        def _backend(self) -> None:
            path, _, query = self.path.partition("?")
            server.paths.append(path)
            if path.startswith(MIRROR_PREFIX + "/"):
                path = path[len(MIRROR_PREFIX) :]
            # /owner/name.git/... is /owner/name/..., as on GitHub.
            path = REPOSITORY_PATH.sub(r"/\1/\2\3", path)
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            environment = {
                "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
                "GIT_PROJECT_ROOT": str(server.root / "repos"),
                "GIT_HTTP_EXPORT_ALL": "1",
                "PATH_INFO": path,
                "QUERY_STRING": query,
                "REQUEST_METHOD": self.command,
                "CONTENT_TYPE": self.headers.get("Content-Type", ""),
                "CONTENT_LENGTH": str(len(body)),
                "HTTP_CONTENT_ENCODING": self.headers.get("Content-Encoding", ""),
                "GIT_PROTOCOL": self.headers.get("Git-Protocol", ""),
                "REMOTE_ADDR": "127.0.0.1",
            }
            result = subprocess.run(
                ["git", "http-backend"], input=body, env=environment, capture_output=True
            )
            head, _, payload = result.stdout.partition(b"\r\n\r\n")
            status = 200
            headers = []
            for line in head.decode("latin-1").split("\r\n"):
                name, _, value = line.partition(":")
                if name.lower() == "status":
                    status = int(value.strip().split()[0])
                elif name:
                    headers.append((name, value.strip()))
            self.send_response(status)
            for name, value in headers:
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

    return Handler


@contextmanager
def serve_git(root: Path) -> Iterator[GitServer]:
    root.mkdir(parents=True, exist_ok=True)
    server = GitServer(root=root)
    with serving(_handler(server)) as port:
        server.port = port
        yield server

"""Gradio's queues on a simulated WebUI, so a browser or a client sees the protocol the real
WebUIs speak: Gradio 3's WebSocket at ``/queue/join`` (AUTOMATIC1111) and Gradio 4's SSE
(``POST /queue/join``, ``GET /queue/data``; Forge). A job renders a PNG into the host's
``outputs/`` and answers its ``/file=`` URL, built from ``X-Forwarded-Proto``/``-Host`` when a
proxy sends them (so the URL is the proxy's), else from the host's own address."""

from __future__ import annotations

import json
import queue
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cloudsim import png
from cloudsim.sandbox import WEBUI_DIR

if TYPE_CHECKING:
    from cloudsim.websocket import WebSocketChannel
    from cloudsim.webui import WebUI

OUTPUTS = "outputs/txt2img-images"
HEARTBEAT_SECONDS = 15.0
# An SSE stream with nothing queued for its session closes after this long.
IDLE_STREAM_SECONDS = 60.0


@dataclass
class _Session:
    events: queue.Queue[dict[str, Any]] = field(default_factory=queue.Queue)


def root_url(headers: dict[str, str], own_root: str) -> str:
    host = headers.get("x-forwarded-host", "").split(",")[0].strip()
    if not host:
        return own_root
    proto = headers.get("x-forwarded-proto", "http").split(",")[0].strip() or "http"
    return f"{proto}://{host}"


class GradioQueues:
    """The queued jobs of every simulated host."""

    def __init__(self, webui: WebUI) -> None:
        self.webui = webui
        self._sessions: dict[tuple[str, str], _Session] = {}
        self._lock = threading.Lock()

    def _session(self, instance_id: str, session_hash: str) -> _Session:
        with self._lock:
            return self._sessions.setdefault((instance_id, session_hash), _Session())

    def generate(self, instance_id: str, sandbox: Path, prompt: str, steps: int = 10) -> str:
        """Runs a job on the host's GPU; returns the image's path under the WebUI directory."""
        settings = {"steps": steps}
        host = self.webui._host(instance_id)
        with host.lock:
            host.jobs += 1
        try:
            with host.gpu:
                self.webui._run_job(instance_id, host, settings, min(3.0, 0.02 * steps))
        finally:
            with host.lock:
                host.jobs -= 1
        name = f"{OUTPUTS}/{time.strftime('%Y%m%d')}-{uuid.uuid4().hex[:10]}.png"
        target = sandbox / WEBUI_DIR / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(png.render(prompt or "cloudsim", 1, {"parameters": prompt}))
        return name

    # --- Gradio 3: one WebSocket per job ---------------------------------------------------

    def websocket_job(self, instance_id: str, sandbox: Path, channel: WebSocketChannel) -> None:
        channel.send_json({"msg": "send_hash"})
        hello = channel.recv_json()
        if not isinstance(hello, dict) or "session_hash" not in hello:
            return
        channel.send_json({"msg": "estimation", "rank": 0, "queue_size": 1, "rank_eta": 1.0})
        channel.send_json({"msg": "send_data"})
        payload = channel.recv_json()
        if not isinstance(payload, dict):
            return
        channel.send_json({"msg": "process_starts"})
        prompt = _prompt(payload.get("data"))
        name = self.generate(instance_id, sandbox, prompt)
        output = {"data": [[{"name": name, "data": None, "is_file": True}], prompt, ""]}
        channel.send_json(
            {
                "msg": "process_completed",
                "output": {**output, "is_generating": False},
                "success": True,
            }
        )

    # --- Gradio 4: POST /queue/join, then an SSE stream ------------------------------------

    def join(self, instance_id: str, body: bytes) -> tuple[int, dict[str, Any]]:
        try:
            payload = json.loads(body or b"{}")
        except ValueError:
            return 422, {"detail": "Request body is not valid JSON."}
        session_hash = payload.get("session_hash") if isinstance(payload, dict) else None
        if not isinstance(session_hash, str) or not session_hash:
            return 422, {"detail": "session_hash is required."}
        event_id = uuid.uuid4().hex
        self._session(instance_id, session_hash).events.put(
            {"event_id": event_id, "data": payload.get("data")}
        )
        return 200, {"event_id": event_id}

    def stream(
        self, instance_id: str, sandbox: Path, session_hash: str, root: str
    ) -> Iterator[bytes]:
        events = self._session(instance_id, session_hash).events
        waited = 0.0
        while waited < IDLE_STREAM_SECONDS:
            try:
                event = events.get(timeout=HEARTBEAT_SECONDS)
            except queue.Empty:
                waited += HEARTBEAT_SECONDS
                yield _sse({"msg": "heartbeat"})
                continue
            event_id = event["event_id"]
            yield _sse({"msg": "estimation", "event_id": event_id, "rank": 0, "queue_size": 1})
            yield _sse({"msg": "process_starts", "event_id": event_id})
            prompt = _prompt(event["data"])
            name = self.generate(instance_id, sandbox, prompt)
            image = {"path": name, "url": f"{root}/file={name}", "orig_name": Path(name).name}
            output = {"data": [[{"image": image, "caption": None}], prompt, ""]}
            yield _sse(
                {
                    "msg": "process_completed",
                    "event_id": event_id,
                    "output": {**output, "is_generating": False},
                    "success": True,
                }
            )
            if events.empty():
                yield _sse({"msg": "close_stream"})
                return
        yield _sse({"msg": "close_stream"})

    def file(self, sandbox: Path, name: str) -> bytes | None:
        """A generated image (only files under ``outputs/``)."""
        base = (sandbox / WEBUI_DIR / "outputs").resolve()
        target = (sandbox / WEBUI_DIR / name).resolve()
        if base not in target.parents or not target.is_file():
            return None
        return target.read_bytes()


def _prompt(data: Any) -> str:
    if isinstance(data, list) and data and isinstance(data[0], str):
        return data[0][:200]
    return ""


def _sse(payload: dict[str, Any]) -> bytes:
    return f"data: {json.dumps(payload)}\n\n".encode()

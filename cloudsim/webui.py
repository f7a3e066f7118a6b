"""The simulated AUTOMATIC1111 API of each host, at ``/hosts/<instance-id>/``.

It answers only while the host is Running and its ``sd-webui`` unit is active (else 502, like a
proxy in front of a dead service), honours ``--api``/``--api-auth``/``--gradio-auth`` from the
host's ``webui.env``, lists the model files really present in the sandbox, and generates small
PNGs. One generation runs at a time per host (others wait, as on one GPU); while it runs the
host's GPU is busy for CloudMonitor.
"""

from __future__ import annotations

import base64
import binascii
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from cloudsim import png
from cloudsim.infotext import VERSION, infotext, parse_infotext, txt2img_settings
from cloudsim.sandbox import WEBUI_DIR
from cloudsim.state import WEBUI_ACTIVITY
from cloudsim.webui_files import (
    CHECKPOINT_SUFFIXES,
    LORA_SUFFIXES,
    VAE_SUFFIXES,
    HostFiles,
    host_view,
)
from cloudsim.webui_queue import GradioQueues, root_url

if TYPE_CHECKING:
    from pathlib import Path

    from cloudsim.simulator import Simulator
    from cloudsim.websocket import WebSocketChannel

SECONDS_PER_STEP = 0.02
MAX_JOB_SECONDS = 3.0


@dataclass
class WebResponse:
    status: int
    body: bytes
    content_type: str = "application/json"
    headers: tuple[tuple[str, str], ...] = ()
    # A response written as it is produced (server-sent events); ``body`` is then unused.
    stream: Iterator[bytes] | None = None


def json_response(
    status: int, payload: Any, headers: tuple[tuple[str, str], ...] = ()
) -> WebResponse:
    return WebResponse(
        status, json.dumps(payload, ensure_ascii=False).encode("utf-8"), headers=headers
    )


class _Host:
    """A host's generation queue: ``gpu`` is held by the running job."""

    def __init__(self) -> None:
        self.gpu = threading.Lock()
        self.lock = threading.Lock()
        self.jobs = 0  # running + waiting
        self.current: dict[str, Any] | None = None


class WebUI:
    """Routes ``/hosts/<id>/...`` requests to the host's simulated WebUI."""

    def __init__(self, sim: Simulator) -> None:
        self.sim = sim
        self.files = HostFiles()
        self._hosts: dict[str, _Host] = {}
        self._hosts_lock = threading.Lock()
        self.queues = GradioQueues(self)

    def _host(self, instance_id: str) -> _Host:
        with self._hosts_lock:
            return self._hosts.setdefault(instance_id, _Host())

    def _reachable(self, instance_id: str) -> WebResponse | None:
        sim = self.sim
        with sim.state.lock:
            instance = sim.state.instances.get(instance_id)
            status = instance.status_at(sim.clock.now()) if instance else ""
        if instance is None:
            return json_response(404, {"detail": f"There is no host {instance_id}."})
        if status != "Running":
            return json_response(
                502, {"detail": f"The WebUI of {instance_id} is unreachable: the host is {status}."}
            )
        if sim.sandboxes.unit_state(instance_id) != "active":
            return json_response(
                502,
                {"detail": f"The WebUI of {instance_id} is unreachable: sd-webui is not active."},
            )
        sandbox = sim.sandboxes.path(instance_id)
        if not (sandbox / WEBUI_DIR / "webui.sh").is_file():
            # The unit runs webui.sh: without it the service dies at once and nothing listens.
            return json_response(
                502,
                {"detail": f"The WebUI of {instance_id} is unreachable: webui.sh is missing."},
            )
        return None

    def websocket(
        self,
        instance_id: str,
        path: str,
        headers: dict[str, str],
        channel: WebSocketChannel,
        *,
        tls: bool = False,
    ) -> None:
        """Gradio 3's queue: ``/queue/join`` upgraded to a WebSocket, one job per socket."""
        refused = self._reachable(instance_id)
        sandbox = self.sim.sandboxes.path(instance_id)
        if refused is None and self.files.launch_options(sandbox).tls_certfile and not tls:
            refused = _https_only(instance_id)
        if refused is None and path != "/queue/join":
            refused = json_response(404, {"detail": "Not Found"})
        if refused is None:
            options = self.files.launch_options(sandbox)
            refused = _check_auth(headers, options.gradio_auth, "Login required")
        if refused is not None:
            channel.refuse(refused.status, json.loads(refused.body)["detail"])
            return
        if channel.accept():
            self.queues.websocket_job(instance_id, sandbox, channel)
            channel.close()

    def _gradio(
        self,
        method: str,
        instance_id: str,
        sandbox: Path,
        path: str,
        query: dict[str, str],
        headers: dict[str, str],
        body: bytes,
    ) -> WebResponse | None:
        """Gradio 4's SSE queue and ``/file=`` downloads (None: not a Gradio route)."""
        if path.startswith("/file="):
            image = self.queues.file(sandbox, path[len("/file=") :])
            if image is None:
                return json_response(404, {"detail": "File not found"})
            return WebResponse(200, image, "image/png")
        if (method, path) == ("POST", "/queue/join"):
            status, payload = self.queues.join(instance_id, body)
            return json_response(status, payload)
        if (method, path) == ("GET", "/queue/data"):
            session_hash = query.get("session_hash", "")
            if not session_hash:
                return json_response(422, {"detail": "session_hash is required."})
            own_root = f"http://{headers.get('host', '')}/hosts/{instance_id}"
            root = root_url(headers, own_root)
            stream = self.queues.stream(instance_id, sandbox, session_hash, root)
            return WebResponse(
                200, b"", "text/event-stream", (("Cache-Control", "no-cache"),), stream
            )
        return None

    def handle(
        self,
        method: str,
        instance_id: str,
        path: str,
        headers: dict[str, str],
        body: bytes,
        query: dict[str, str] | None = None,
        *,
        tls: bool = False,
    ) -> WebResponse:
        refused = self._reachable(instance_id)
        if refused is not None:
            return refused
        sandbox = self.sim.sandboxes.path(instance_id)
        options = self.files.launch_options(sandbox)
        if options.tls_certfile and not tls:
            return _https_only(instance_id)
        path = path or "/"
        if path.startswith("/sdapi/"):
            if not options.api:
                return json_response(404, {"detail": "Not Found"})
            refused = _check_auth(headers, options.api_auth, "Incorrect username or password")
            if refused is not None:
                return refused
            return self._api(method, instance_id, sandbox, path, body)
        if path in ("/", "/index.html"):
            refused = _check_auth(headers, options.gradio_auth, "Login required")
            if refused is not None:
                return refused
            return WebResponse(200, _index_page(instance_id).encode(), "text/html; charset=utf-8")
        if path.startswith(("/file=", "/queue/")):
            refused = _check_auth(headers, options.gradio_auth, "Login required")
            if refused is not None:
                return refused
            answer = self._gradio(method, instance_id, sandbox, path, query or {}, headers, body)
            if answer is not None:
                return answer
        if path == "/sd_extra_networks/thumb" and method == "GET":
            refused = _check_auth(headers, options.gradio_auth, "Login required")
            if refused is not None:
                return refused
            return _extra_networks_thumb(sandbox, (query or {}).get("filename", ""))
        if path == "/docs":
            return WebResponse(200, _docs_page().encode(), "text/html; charset=utf-8")
        return json_response(404, {"detail": "Not Found"})

    # --- /sdapi/v1 -----------------------------------------------------------------------

    def _api(
        self,
        method: str,
        instance_id: str,
        sandbox: Path,
        path: str,
        body: bytes,
    ) -> WebResponse:
        route = (method, path.rstrip("/"))
        if route == ("GET", "/sdapi/v1/sd-models"):
            return json_response(200, self._checkpoints(sandbox))
        if route == ("GET", "/sdapi/v1/loras"):
            files = self.files.model_files(sandbox, "Lora", LORA_SUFFIXES)
            return json_response(
                200,
                [
                    {"name": f.stem, "alias": f.stem, "path": host_view(sandbox, f), "metadata": {}}
                    for f in files
                ],
            )
        if route == ("GET", "/sdapi/v1/sd-vae"):
            files = self.files.model_files(sandbox, "VAE", VAE_SUFFIXES)
            return json_response(
                200, [{"model_name": f.name, "filename": host_view(sandbox, f)} for f in files]
            )
        if route == ("GET", "/sdapi/v1/progress"):
            return json_response(200, self._progress(instance_id))
        if route == ("GET", "/sdapi/v1/options"):
            return json_response(200, _options(sandbox))
        if route == ("POST", "/sdapi/v1/refresh-checkpoints"):
            return json_response(200, None)
        if route == ("POST", "/sdapi/v1/txt2img"):
            return self._txt2img(instance_id, sandbox, body)
        if route == ("POST", "/sdapi/v1/png-info"):
            return _png_info(body)
        if path.rstrip("/") in (
            "/sdapi/v1/sd-models",
            "/sdapi/v1/loras",
            "/sdapi/v1/sd-vae",
            "/sdapi/v1/progress",
            "/sdapi/v1/options",
            "/sdapi/v1/refresh-checkpoints",
            "/sdapi/v1/txt2img",
            "/sdapi/v1/png-info",
        ):
            return json_response(405, {"detail": "Method Not Allowed"})
        return json_response(404, {"detail": "Not Found"})

    def _checkpoints(self, sandbox: Path) -> list[dict[str, Any]]:
        base = sandbox / WEBUI_DIR / "models" / "Stable-diffusion"
        models = []
        for path in self.files.model_files(sandbox, "Stable-diffusion", CHECKPOINT_SUFFIXES):
            digest = self.files.sha256(path)
            relative = path.relative_to(base).as_posix()
            models.append(
                {
                    "title": f"{relative} [{digest[:10]}]",
                    "model_name": relative.rsplit(".", 1)[0].replace("/", "_"),
                    "hash": digest[:10],
                    "sha256": digest,
                    "filename": host_view(sandbox, path),
                    "config": None,
                }
            )
        return models

    def _progress(self, instance_id: str) -> dict[str, Any]:
        host = self._host(instance_id)
        with host.lock:
            current = dict(host.current) if host.current else None
            jobs = host.jobs
        state = {
            "skipped": False,
            "interrupted": False,
            "job": "",
            "job_count": jobs,
            "job_timestamp": "0",
            "job_no": 0,
            "sampling_step": 0,
            "sampling_steps": 0,
        }
        progress = 0.0
        eta = 0.0
        if current is not None:
            elapsed = time.monotonic() - current["started"]
            progress = min(0.99, elapsed / current["duration"]) if current["duration"] else 0.99
            eta = max(0.0, current["duration"] - elapsed)
            state.update(
                job="txt2img",
                job_timestamp=current["timestamp"],
                sampling_steps=current["steps"],
                sampling_step=int(progress * current["steps"]),
            )
        return {
            "progress": round(progress, 3),
            "eta_relative": round(eta, 3),
            "state": state,
            "current_image": None,
            "textinfo": None,
        }

    def _txt2img(self, instance_id: str, sandbox: Path, body: bytes) -> WebResponse:
        try:
            request = json.loads(body or b"{}")
        except ValueError:
            return _unprocessable("body", "Request body is not valid JSON.")
        if not isinstance(request, dict):
            return _unprocessable("body", "Request body must be a JSON object.")
        settings, problem = txt2img_settings(request)
        if problem is not None:
            return _unprocessable(*problem)
        checkpoints = self._checkpoints(sandbox)
        wanted = (request.get("override_settings") or {}).get("sd_model_checkpoint")
        model = next(
            (m for m in checkpoints if wanted in (m["title"], m["model_name"], m["hash"])),
            checkpoints[0] if checkpoints else None,
        )
        images_count = settings["batch_size"] * settings["n_iter"]
        duration = min(MAX_JOB_SECONDS, SECONDS_PER_STEP * settings["steps"] * images_count)
        host = self._host(instance_id)
        with host.lock:
            host.jobs += 1
        try:
            with host.gpu:
                self._run_job(instance_id, host, settings, duration)
        finally:
            with host.lock:
                host.jobs -= 1
        seeds = [settings["seed"] + i for i in range(images_count)]
        infotexts = [infotext(settings, seed, model) for seed in seeds]
        images = [
            base64.b64encode(png.render(settings["prompt"], seed, {"parameters": text})).decode()
            for seed, text in zip(seeds, infotexts, strict=True)
        ]
        info = {
            "prompt": settings["prompt"],
            "all_prompts": [settings["prompt"]] * images_count,
            "negative_prompt": settings["negative_prompt"],
            "seed": seeds[0],
            "all_seeds": seeds,
            "subseed": -1,
            "width": settings["width"],
            "height": settings["height"],
            "sampler_name": settings["sampler_name"],
            "cfg_scale": settings["cfg_scale"],
            "steps": settings["steps"],
            "batch_size": settings["batch_size"],
            "sd_model_name": model["model_name"] if model else None,
            "sd_model_hash": model["hash"] if model else None,
            "infotexts": infotexts,
            "job_timestamp": time.strftime("%Y%m%d%H%M%S", time.gmtime()),
            "version": VERSION,
        }
        return json_response(
            200,
            {"images": images, "parameters": {**request, **settings}, "info": json.dumps(info)},
        )

    def _run_job(
        self, instance_id: str, host: _Host, settings: dict[str, Any], duration: float
    ) -> None:
        sim = self.sim
        with sim.state.lock:
            begin = sim.clock.now()
            instance = sim.state.instances.get(instance_id)
            if instance is not None:
                instance.add_activity(begin, begin + duration * sim.clock.speed, WEBUI_ACTIVITY)
                sim.state.touch()
        with host.lock:
            host.current = {
                "started": time.monotonic(),
                "duration": duration,
                "steps": settings["steps"],
                "timestamp": time.strftime("%Y%m%d%H%M%S", time.gmtime()),
            }
        try:
            time.sleep(duration)
        finally:
            with host.lock:
                host.current = None


def _png_info(body: bytes) -> WebResponse:
    try:
        request = json.loads(body or b"{}")
    except ValueError:
        return _unprocessable("body", "Request body is not valid JSON.")
    image = request.get("image") if isinstance(request, dict) else None
    if not isinstance(image, str) or not image.strip():
        return json_response(404, {"detail": "Image not found"})
    if image.startswith("data:"):
        image = image.partition(",")[2]
    try:
        texts = png.read_texts(base64.b64decode(image, validate=False))
    except (binascii.Error, ValueError) as error:
        return _unprocessable("image", f"Cannot read the image: {error}")
    info = texts.pop("parameters", "")
    return json_response(200, {"info": info, "items": texts, "parameters": parse_infotext(info)})


# The extra networks page serves card previews from the model folders only, by suffix.
THUMB_FOLDERS = ("models", "embeddings")
THUMB_TYPES = {
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".webp": "image/webp",
    ".gif": "image/gif",
}


def _extra_networks_thumb(sandbox: Path, filename: str) -> WebResponse:
    """``/sd_extra_networks/thumb?filename=/root/stable-diffusion-webui/models/...``: a card's
    preview image, as AUTOMATIC1111 serves it (absolute host path, 404 when missing, refused
    outside the model folders or for a suffix that is not an image)."""
    if not filename.startswith("/") or "\x00" in filename:
        return json_response(404, {"detail": "File not found"})
    target = (sandbox / filename.lstrip("/")).resolve()
    base = (sandbox / WEBUI_DIR).resolve()
    if not any(target.is_relative_to(base / folder) for folder in THUMB_FOLDERS):
        return json_response(500, {"detail": "File cannot be fetched"})
    content_type = THUMB_TYPES.get(target.suffix.lower())
    if content_type is None:
        return json_response(500, {"detail": "File cannot be fetched"})
    if not target.is_file():
        return json_response(404, {"detail": "File not found"})
    return WebResponse(200, target.read_bytes(), content_type)


def _unprocessable(field: str, message: str) -> WebResponse:
    return json_response(
        422, {"detail": [{"loc": ["body", field], "msg": message, "type": "value_error"}]}
    )


def _check_auth(
    headers: dict[str, str], credentials: tuple[tuple[str, str], ...], detail: str
) -> WebResponse | None:
    if not credentials:
        return None
    header = headers.get("authorization", "")
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() == "basic":
        try:
            user, _, password = base64.b64decode(encoded).decode("utf-8").partition(":")
        except (binascii.Error, UnicodeDecodeError, ValueError):
            user, password = "", ""
        if (user, password) in credentials:
            return None
    return json_response(401, {"detail": detail}, (("WWW-Authenticate", "Basic"),))


def _index_page(instance_id: str) -> str:
    return (
        "<!doctype html><html><head><meta charset='utf-8'>"
        "<title>Stable Diffusion WebUI (cloudsim)</title></head><body>"
        f"<h1>Stable Diffusion WebUI (cloudsim)</h1><p>Simulated host {instance_id}. "
        "The API lives under <code>sdapi/v1/</code>; see <a href='docs'>docs</a>.</p>"
        "</body></html>"
    )


def _docs_page() -> str:
    endpoints = [
        ("GET", "/sdapi/v1/sd-models", "checkpoints in models/Stable-diffusion"),
        ("GET", "/sdapi/v1/loras", "files in models/Lora"),
        ("GET", "/sdapi/v1/sd-vae", "files in models/VAE"),
        ("GET", "/sdapi/v1/progress", "the current job"),
        ("POST", "/sdapi/v1/txt2img", "generates small PNGs with the infotext"),
        ("POST", "/sdapi/v1/png-info", "reads the infotext back"),
        ("POST", "/sdapi/v1/refresh-checkpoints", "no-op"),
    ]
    rows = "".join(f"<li><code>{m} {p}</code>: {d}</li>" for m, p, d in endpoints)
    return (
        "<!doctype html><html><head><meta charset='utf-8'><title>cloudsim WebUI API</title>"
        f"</head><body><h1>Simulated AUTOMATIC1111 API</h1><ul>{rows}</ul></body></html>"
    )


def _options(sandbox: Path) -> dict[str, Any]:
    """The WebUI's settings as ``GET /sdapi/v1/options`` shows them: its ``config.json``, where
    ``localization`` is its language ("None": built-in English), read at every call."""
    options: dict[str, Any] = {"localization": "None", "sd_model_checkpoint": ""}
    try:
        saved = json.loads((sandbox / WEBUI_DIR / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        saved = {}
    if isinstance(saved, dict):
        options.update(saved)
    return options


def _https_only(instance_id: str) -> WebResponse:
    """A WebUI started with --tls-certfile serves HTTPS on its port (cloudsim: the host's TLS
    listener), never plain HTTP."""
    return json_response(
        400, {"detail": f"The WebUI of {instance_id} serves HTTPS only (its TLS port)."}
    )

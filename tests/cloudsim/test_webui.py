"""The simulated WebUI of each host: availability, Basic auth from webui.env, the API."""

from __future__ import annotations

import base64
import threading
import time
from pathlib import Path

import pytest
from alibabacloud_ecs20140526 import models as em

from tests.cloudsim import helpers

DEPLOY = r"""set -eu
env_file="${NESTOPS_HOST_ROOT}/etc/sd-webui/webui.env"
printf 'COMMANDLINE_ARGS="--listen --port 7860 --api --api-auth %s --gradio-auth %s"\n' \
  "admin:s3cret pass" "admin:s3cret pass" > "$env_file.new"
sed -i 's/admin:s3cret pass/admin:s3cret-pass/g' "$env_file.new"
mv "$env_file.new" "$env_file"
systemctl restart sd-webui
webui="${NESTOPS_WEBUI_URL:-http://127.0.0.1:7860}"
for i in $(seq 50); do
  if curl -fsS -u admin:s3cret-pass "$webui/sdapi/v1/progress" >/dev/null; then
    echo ready; exit 0
  fi
  sleep 0.1
done
exit 1
"""


@pytest.fixture
def host(make_hosts):
    [host_id] = make_hosts()
    return host_id


def test_a_fresh_host_serves_the_api_without_auth(sim, host):
    url = sim.webui_url(host)
    status, models, _ = helpers.http("GET", f"{url}/sdapi/v1/sd-models")
    assert status == 200
    [model] = models
    assert model["model_name"] == "v1-5-pruned-emaonly"
    assert (
        model["filename"]
        == "/root/stable-diffusion-webui/models/Stable-diffusion/v1-5-pruned-emaonly.safetensors"
    )
    assert model["title"] == f"v1-5-pruned-emaonly.safetensors [{model['hash']}]"
    assert len(model["sha256"]) == 64 and model["sha256"].startswith(model["hash"])
    status, page, _ = helpers.http("GET", f"{url}/")
    assert status == 200 and "<title>Stable Diffusion WebUI (cloudsim)</title>" in page
    status, docs, _ = helpers.http("GET", f"{url}/docs")
    assert status == 200 and "txt2img" in docs
    status, progress, _ = helpers.http("GET", f"{url}/sdapi/v1/progress")
    assert status == 200
    assert set(progress) == {"progress", "eta_relative", "state", "current_image", "textinfo"}
    assert progress["state"]["job_count"] == 0


def test_the_deploy_contract_turns_on_basic_auth(sim, host):
    finished = helpers.run_script(helpers.oos(sim), [host], DEPLOY)
    assert finished.status == "Success", finished.status_message
    url = f"{sim.webui_url(host)}/sdapi/v1/sd-models"
    assert helpers.http("GET", url)[0] == 401
    status, body, headers = helpers.http(
        "GET", url, headers={"Authorization": helpers.basic_auth("admin", "wrong")}
    )
    assert status == 401 and body == {"detail": "Incorrect username or password"}
    assert headers.get("WWW-Authenticate") == "Basic"
    good = {"Authorization": helpers.basic_auth("admin", "s3cret-pass")}
    assert helpers.http("GET", url, headers=good)[0] == 200
    # The Gradio page has its own credentials (--gradio-auth); /docs stays open like FastAPI's.
    assert helpers.http("GET", f"{sim.webui_url(host)}/")[0] == 401
    assert helpers.http("GET", f"{sim.webui_url(host)}/", headers=good)[0] == 200
    assert helpers.http("GET", f"{sim.webui_url(host)}/docs")[0] == 200


def test_the_webui_answers_only_while_running_and_active(sim, host):
    url = f"{sim.webui_url(host)}/sdapi/v1/progress"
    finished = helpers.run_script(
        helpers.oos(sim), [host], "systemctl stop sd-webui; systemctl is-active sd-webui || true"
    )
    assert "inactive" in finished.outputs
    status, body, _ = helpers.http("GET", url)
    assert status == 502 and "not active" in body["detail"]
    helpers.run_script(helpers.oos(sim), [host], "systemctl start sd-webui")
    assert helpers.http("GET", url)[0] == 200

    ecs = helpers.ecs(sim)
    ecs.stop_instance(em.StopInstanceRequest(instance_id=host))
    status, body, _ = helpers.http("GET", url)
    assert status == 502 and "Stopping" in body["detail"]
    sim.advance(6)
    ecs.start_instance(em.StartInstanceRequest(instance_id=host))
    sim.advance(6)
    # The unit is enabled: it is active again whenever the host is Running.
    assert helpers.http("GET", url)[0] == 200
    assert helpers.http("GET", f"{sim.base_url}/hosts/i-nothere/sdapi/v1/progress")[0] == 404


def test_model_files_in_the_sandbox_are_listed(sim, host):
    sandbox = Path(sim.instance(host)["sandbox"])
    models = sandbox / "root/stable-diffusion-webui/models"
    (models / "Lora" / "pixel-art.safetensors").write_bytes(b"lora")
    (models / "VAE" / "vae-ft-mse.pt").write_bytes(b"vae")
    helpers.ecs(sim).send_file(
        em.SendFileRequest(
            region_id=helpers.REGION,
            instance_id=[host],
            name="dreamshaper_8.safetensors",
            target_dir="/root/stable-diffusion-webui/models/Stable-diffusion",
            content=base64.b64encode(b"checkpoint bytes").decode(),
            content_type="Base64",
        )
    )
    url = sim.webui_url(host)
    names = [m["model_name"] for m in helpers.http("GET", f"{url}/sdapi/v1/sd-models")[1]]
    assert names == ["dreamshaper_8", "v1-5-pruned-emaonly"]
    [lora] = helpers.http("GET", f"{url}/sdapi/v1/loras")[1]
    assert (lora["name"], lora["alias"]) == ("pixel-art", "pixel-art")
    assert lora["path"].endswith("/models/Lora/pixel-art.safetensors")
    assert [v["model_name"] for v in helpers.http("GET", f"{url}/sdapi/v1/sd-vae")[1]] == [
        "vae-ft-mse.pt"
    ]
    assert helpers.http("POST", f"{url}/sdapi/v1/refresh-checkpoints", {})[:2] == (200, None)


@pytest.mark.parametrize("prompt", ["a red fox in snow", "一只红色的狐狸, ünïcødé"])
def test_txt2img_images_carry_their_infotext_through_png_info(sim, host, prompt):
    url = sim.webui_url(host)
    status, answer, _ = helpers.http(
        "POST",
        f"{url}/sdapi/v1/txt2img",
        {
            "prompt": prompt,
            "negative_prompt": "blurry",
            "steps": 5,
            "seed": 42,
            "width": 512,
            "height": 768,
        },
    )
    assert status == 200
    assert set(answer) == {"images", "parameters", "info"}
    [image] = answer["images"]
    raw = base64.b64decode(image)
    assert raw.startswith(b"\x89PNG\r\n\x1a\n")
    assert answer["parameters"]["seed"] == 42
    status, info, _ = helpers.http(
        "POST", f"{url}/sdapi/v1/png-info", {"image": "data:image/png;base64," + image}
    )
    assert status == 200
    assert info["info"].startswith(prompt + "\nNegative prompt: blurry\nSteps: 5,")
    assert "Seed: 42" in info["info"] and "Size: 512x768" in info["info"]
    assert info["parameters"]["Prompt"] == prompt
    assert info["parameters"]["Seed"] == "42"
    import json

    assert json.loads(answer["info"])["infotexts"] == [info["info"]]


def test_the_same_prompt_and_seed_draw_the_same_picture(sim, host):
    url = f"{sim.webui_url(host)}/sdapi/v1/txt2img"
    first = helpers.http("POST", url, {"prompt": "same", "seed": 7, "steps": 1})[1]["images"]
    second = helpers.http("POST", url, {"prompt": "same", "seed": 7, "steps": 1})[1]["images"]
    other = helpers.http("POST", url, {"prompt": "same", "seed": 8, "steps": 1})[1]["images"]
    assert first == second != other


def test_progress_shows_the_running_and_queued_jobs(sim, host):
    url = sim.webui_url(host)
    answers = []

    def generate():
        answers.append(
            helpers.http("POST", f"{url}/sdapi/v1/txt2img", {"prompt": "slow", "steps": 40})[0]
        )

    workers = [threading.Thread(target=generate) for _ in range(2)]
    for worker in workers:
        worker.start()
    seen = []
    deadline = time.monotonic() + 5
    while any(w.is_alive() for w in workers) and time.monotonic() < deadline:
        seen.append(helpers.http("GET", f"{url}/sdapi/v1/progress")[1])
        time.sleep(0.05)
    for worker in workers:
        worker.join()
    assert answers == [200, 200]
    assert max(p["state"]["job_count"] for p in seen) == 2
    busy = [p for p in seen if p["state"]["job"] == "txt2img"]
    assert busy and busy[0]["state"]["sampling_steps"] == 40
    assert helpers.http("GET", f"{url}/sdapi/v1/progress")[1]["state"]["job_count"] == 0


@pytest.mark.parametrize(
    "payload",
    [[1, 2], {"steps": "many"}, {"steps": 0}, {"width": 10}, {"prompt": 5}, {"seed": True}],
)
def test_txt2img_validates_its_input(sim, host, payload):
    status, body, _ = helpers.http("POST", f"{sim.webui_url(host)}/sdapi/v1/txt2img", payload)
    assert status == 422
    assert body["detail"][0]["loc"][0] == "body"


def test_png_info_without_an_image(sim, host):
    status, body, _ = helpers.http(
        "POST", f"{sim.webui_url(host)}/sdapi/v1/png-info", {"image": ""}
    )
    assert (status, body) == (404, {"detail": "Image not found"})
    status, _, _ = helpers.http(
        "POST", f"{sim.webui_url(host)}/sdapi/v1/png-info", {"image": "aGVsbG8="}
    )
    assert status == 422


def test_without_api_flag_there_is_no_api(sim, host):
    env = Path(sim.instance(host)["sandbox"]) / "etc/sd-webui/webui.env"
    env.write_text('COMMANDLINE_ARGS="--listen --port 7860"\n')
    assert helpers.http("GET", f"{sim.webui_url(host)}/sdapi/v1/progress")[0] == 404
    env.write_text('COMMANDLINE_ARGS="--listen --port 7860 --api"\n')
    assert helpers.http("GET", f"{sim.webui_url(host)}/sdapi/v1/progress")[0] == 200


def test_card_previews_are_served_from_the_model_folders_only(sim, host):
    sandbox = Path(sim.instance(host)["sandbox"])
    webui = sandbox / "root/stable-diffusion-webui"
    (webui / "models/Lora").mkdir(parents=True, exist_ok=True)
    (webui / "models/Lora/card.preview.png").write_bytes(b"\x89PNG\r\n\x1a\nrest")
    (webui / "models/Lora/card.txt").write_text("not an image")
    (webui / "config.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    url = sim.webui_url(host) + "/sd_extra_networks/thumb?filename="
    host_dir = "/root/stable-diffusion-webui"

    status, _body, headers = helpers.http("GET", f"{url}{host_dir}/models/Lora/card.preview.png")
    assert status == 200 and headers["Content-Type"] == "image/png"
    assert helpers.http("GET", f"{url}{host_dir}/models/Lora/gone.png")[0] == 404
    assert helpers.http("GET", f"{url}{host_dir}/models/Lora/card.txt")[0] == 500
    assert helpers.http("GET", f"{url}{host_dir}/config.png")[0] == 500
    assert helpers.http("GET", f"{url}{host_dir}/models/../config.png")[0] == 500

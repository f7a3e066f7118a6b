#!/bin/bash
# Turns a GPU host made from a base image (Ubuntu 22.04 with the NVIDIA driver, or Alibaba's AI
# image with the driver, CUDA and PyTorch) into a nestops WebUI host, as the host contract in
# docs/cloudsim.md says: the WebUI at /root/stable-diffusion-webui at a pinned version with its
# Python packages in a venv, the Chinese localization extension, /etc/sd-webui/webui.env and the
# sd-webui unit, enabled and answering. nestops sends it through OOS before it captures the
# image; deploy/packer/ runs the same file with Packer's shell provisioner.
#
# Arguments (environment): NESTOPS_ARG_WEBUI_REPO, NESTOPS_ARG_WEBUI_REF (a tag or commit),
# NESTOPS_ARG_LOCALIZATION_REPO (empty: none), NESTOPS_ARG_GITHUB_MIRROR (a prefix put before
# https://github.com/ URLs, e.g. a mainland-China mirror; empty: none), NESTOPS_ARG_PIP_INDEX_URL
# (a package index; empty: pip's default), NESTOPS_ARG_PIP_FIND_LINKS (a wheel folder; with it
# pip uses no index), NESTOPS_ARG_PORT, NESTOPS_ARG_WAIT_SECONDS.
# Paths start at ${NESTOPS_HOST_ROOT:-} (empty on a real host, the sandbox in cloudsim).
set -euo pipefail
root="${NESTOPS_HOST_ROOT:-}"
webui="$root/root/stable-diffusion-webui"
env_file="$root/etc/sd-webui/webui.env"
unit_file="$root/etc/systemd/system/sd-webui.service"
port="${NESTOPS_ARG_PORT:-7860}"
wait_seconds="${NESTOPS_ARG_WAIT_SECONDS:-1800}"

fail() {
  echo "nestops-bootstrap: $2" >&2
  printf 'NESTOPS_RESULT {"ok": false, "error": "%s"}\n' "$1"
  exit 1
}

github_url() {
  # A GitHub address through the configured mirror; other addresses as they are.
  case "$1" in
    https://github.com/*) printf '%s%s' "${NESTOPS_ARG_GITHUB_MIRROR:-}" "$1" ;;
    *) printf '%s' "$1" ;;
  esac
}

[ "$(uname -s)" = Linux ] || fail NotLinux "This script runs on Linux hosts only."
if ! command -v nvidia-smi >/dev/null 2>&1; then
  fail NoGpuDriver "The base image has no NVIDIA driver (nvidia-smi is missing): build from an Ubuntu 22.04 image with the GPU driver or from Alibaba's AI image."
fi
nvidia-smi -L || fail NoGpuDriver "nvidia-smi finds no GPU: is this a GPU instance type?"

if [ -z "$root" ] && command -v apt-get >/dev/null 2>&1; then
  # A real host: the tools the WebUI and nestops' host scripts need.
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q git curl python3 python3-venv python3-pip libgl1 libglib2.0-0 google-perftools
fi

if [ -e "$webui/.git" ]; then
  echo "the WebUI is already cloned; checking out ${NESTOPS_ARG_WEBUI_REF}"
else
  rm -rf "$webui"
  git clone --quiet "$(github_url "$NESTOPS_ARG_WEBUI_REPO")" "$webui" \
    || fail CloneFailed "Could not clone $NESTOPS_ARG_WEBUI_REPO (set the GitHub mirror if GitHub is slow or blocked from this region)."
fi
git -C "$webui" -c advice.detachedHead=false checkout --quiet "$NESTOPS_ARG_WEBUI_REF" \
  || fail CheckoutFailed "The WebUI has no version $NESTOPS_ARG_WEBUI_REF."
commit="$(git -C "$webui" rev-parse HEAD)"

pip_options=(--disable-pip-version-check --quiet)
if [ -n "${NESTOPS_ARG_PIP_FIND_LINKS:-}" ]; then
  pip_options+=(--no-index --find-links "$NESTOPS_ARG_PIP_FIND_LINKS")
elif [ -n "${NESTOPS_ARG_PIP_INDEX_URL:-}" ]; then
  pip_options+=(--index-url "$NESTOPS_ARG_PIP_INDEX_URL")
fi
# --system-site-packages: the AI image's PyTorch (built for its CUDA) is used as it is.
python3 -m venv --system-site-packages "$webui/venv"
requirements="$webui/requirements_versions.txt"
[ -f "$requirements" ] || requirements="$webui/requirements.txt"
"$webui/venv/bin/python" -m pip install "${pip_options[@]}" -r "$requirements" \
  || fail PackagesFailed "Installing the WebUI's Python packages failed (check the package index setting)."

mkdir -p "$webui/models/Stable-diffusion" "$webui/models/Lora" "$webui/models/VAE" \
  "$webui/models/ControlNet" "$webui/embeddings" "$webui/extensions" "$webui/outputs"
if [ -n "${NESTOPS_ARG_LOCALIZATION_REPO:-}" ]; then
  target="$webui/extensions/stable-diffusion-webui-localization-zh_CN"
  [ -e "$target/.git" ] || git clone --quiet --depth 1 \
    "$(github_url "$NESTOPS_ARG_LOCALIZATION_REPO")" "$target" \
    || fail CloneFailed "Could not clone the localization $NESTOPS_ARG_LOCALIZATION_REPO."
fi

mkdir -p "$(dirname "$env_file")" "$(dirname "$unit_file")"
printf 'COMMANDLINE_ARGS="--listen --port %s --api"\n' "$port" >"$env_file"
printf '%s\n' \
  '[Unit]' \
  'Description=Stable Diffusion WebUI' \
  'After=network-online.target' \
  '' \
  '[Service]' \
  'Type=simple' \
  'User=root' \
  'WorkingDirectory=/root/stable-diffusion-webui' \
  'EnvironmentFile=/etc/sd-webui/webui.env' \
  'Environment=venv_dir=/root/stable-diffusion-webui/venv' \
  'ExecStart=/bin/bash /root/stable-diffusion-webui/webui.sh -f' \
  'Restart=on-failure' \
  '' \
  '[Install]' \
  'WantedBy=multi-user.target' >"$unit_file"
systemctl daemon-reload
systemctl enable --now sd-webui

url="${NESTOPS_WEBUI_URL:-http://127.0.0.1:$port}/sdapi/v1/progress"
waited=0
until curl -fsS -o /dev/null --max-time 10 "$url"; do
  if [ "$waited" -ge "$wait_seconds" ]; then
    systemctl disable --now sd-webui || true
    fail WebUINotAnswering "The WebUI did not answer at $url within $wait_seconds s; see journalctl -u sd-webui on the host."
  fi
  sleep 2
  waited=$((waited + 2))
done
echo "the WebUI answers at $url"
printf 'NESTOPS_RESULT {"ok": true, "commit": "%s"}\n' "$commit"

# Shared by the host scripts: inlined where a script says "# nestops:include common.sh".
# Paths start at ${NESTOPS_HOST_ROOT:-} (empty on a real host, the sandbox in cloudsim); every
# path a script writes is checked here, on the host, whatever the control plane checked.
root="${NESTOPS_HOST_ROOT:-}"
webui_dir="$root/root/stable-diffusion-webui"
webui_tls_dir="$root/etc/sd-webui/tls"
webui_tls_key="$webui_tls_dir/webui.key"
webui_tls_cert="$webui_tls_dir/webui.crt"
# The port the WebUI serves TLS on: its own on a real host; in cloudsim, where hosts share one
# address, the port cloudsim gave this host (NESTOPS_WEBUI_TLS_PORT).
webui_port="${NESTOPS_WEBUI_TLS_PORT:-${NESTOPS_ARG_PORT:-7860}}"

# webui_base: the WebUI's base URL as this host reaches it, https when webui.env asks for TLS
# (curl then trusts exactly the host's own certificate).
webui_base() {
  if grep -qs -- "--tls-certfile" "$root/etc/sd-webui/webui.env"; then
    printf 'https://127.0.0.1:%s' "$webui_port"
  else
    printf '%s' "${NESTOPS_WEBUI_URL:-http://127.0.0.1:${NESTOPS_ARG_PORT:-7860}}"
  fi
}

fail() {
  echo "refused: $*" >&2
  exit 2
}

# A non-empty value without control characters (newlines included).
is_plain() { [[ -n "$1" && "$1" != *[[:cntrl:]]* ]]; }

# inside PATH DIR: PATH is DIR or lies below it.
inside() { [[ "$1" == "$2" || "$1" == "$2"/* ]]; }

# The host path as people see it on a real host (without the sandbox prefix).
shown() { printf '%s' "${1#"$root"}"; }

webui_real() {
  [[ -d "$webui_dir" ]] || fail "the WebUI directory $(shown "$webui_dir") does not exist"
  realpath -e -- "$webui_dir"
}

# resolve_dir TOP REL: the real path of folder REL (relative to the WebUI directory), which
# must lie in TOP (models, embeddings or extensions) once symlinks are resolved. Missing parts
# are resolved as if they existed (realpath -m), so they can be created afterwards.
resolve_dir() {
  local top="$1" rel="$2" base real top_real
  is_plain "$rel" || fail "the folder name is empty or contains control characters"
  case "/$rel/" in
    *//* | */./* | */../*) fail "the folder '$rel' is absolute or has empty, '.' or '..' parts" ;;
  esac
  base="$(webui_real)"
  top_real="$(realpath -m -- "$base/$top")"
  inside "$top_real" "$base" || fail "$top/ leads out of the WebUI directory (to $(shown "$top_real"))"
  real="$(realpath -m -- "$base/$rel")"
  inside "$real" "$top_real" || fail "the folder '$rel' leads out of $top/ (to $(shown "$real"))"
  printf '%s\n' "$real"
}

# check_leaf NAME: a single path component.
check_leaf() {
  is_plain "$1" || fail "the file name is empty or contains control characters"
  [[ "$1" != */* && "$1" != . && "$1" != .. ]] || fail "'$1' is not a file name"
}

# model_dir PATH: the real folder of the model file PATH (relative to the WebUI directory,
# under models/ or embeddings/), once PATH and its file name are checked.
model_dir() {
  local path="$1" top
  is_plain "$path" || fail "the path is empty or contains control characters"
  [[ "$path" == */* ]] || fail "'$path' is not inside a model folder"
  top="${path%%/*}"
  [[ "$top" == models || "$top" == embeddings ]] ||
    fail "model files are under models/ or embeddings/, not '$path'"
  check_leaf "${path##*/}"
  resolve_dir "$top" "${path%/*}"
}

# check_account: the WebUI user and password may only be letters, digits and ._- because they
# are written into curl's configuration.
check_account() {
  [[ "${NESTOPS_ARG_WEBUI_USER:-}" =~ ^[A-Za-z0-9._-]+$ &&
    "${NESTOPS_ARG_WEBUI_PASSWORD:-}" =~ ^[A-Za-z0-9._-]+$ ]] ||
    fail "the WebUI user or password has characters nestops never generates"
}

# webui_call METHOD PATH: prints the HTTP status (000 when the WebUI does not answer). The
# credentials go to curl on stdin, never on its command line where `ps` would show them.
webui_call() {
  local base tls=()
  base="$(webui_base)"
  [[ "$base" != https://* ]] || tls=(--cacert "$webui_tls_cert")
  printf 'user = "%s:%s"\n' "$NESTOPS_ARG_WEBUI_USER" "$NESTOPS_ARG_WEBUI_PASSWORD" |
    curl -K - -sS "${tls[@]}" -o /dev/null -w '%{http_code}' -X "$1" --max-time 60 "$base$2" \
      2>/dev/null || true
}

# refresh_webui: asks the WebUI to list its files again; prints a JSON object of the HTTP
# statuses (0: no answer; 404 is fine, the WebUI may have no refresh-loras).
refresh_webui() {
  local path code json=""
  for path in refresh-checkpoints refresh-loras; do
    code="$(webui_call POST "/sdapi/v1/$path")"
    echo "POST /sdapi/v1/$path: HTTP $code" >&2
    json+="${json:+, }\"$path\": $((10#${code:-0}))"
  done
  printf '{%s}' "$json"
}

# wait_webui SECONDS: until /sdapi/v1/progress answers 200.
wait_webui() {
  local deadline=$((SECONDS + $1))
  until [[ "$(webui_call GET /sdapi/v1/progress)" == 200 ]]; do
    if ((SECONDS > deadline)); then
      echo "the WebUI did not answer within $1 s" >&2
      systemctl status sd-webui >&2 || true
      exit 1
    fi
    sleep 2
  done
}

# check_allow_private: ALLOW_PRIVATE (0 | 1) says whether private addresses (and http://) are
# allowed for what the host fetches.
check_allow_private() {
  allow_private="${NESTOPS_ARG_ALLOW_PRIVATE:-0}"
  [[ "$allow_private" == [01] ]] || fail "ALLOW_PRIVATE is not 0 or 1"
}

# check_url URL: "HOST PORT ADDRESS" if the outbound address policy (nestops/addresses.py, run
# with this host's python3; scripts that fetch say "# nestops:address-policy") allows URL and
# every address this host resolves its name to.
check_url() {
  command -v python3 >/dev/null || fail "python3 is needed to check download URLs"
  python3 -c 'import base64,sys,zlib; exec(zlib.decompress(base64.b64decode(sys.argv.pop(1))))' \
    "$address_policy" "$1" "$allow_private" "$allow_private"
}

# pin URL: checks URL, then sets hop_host, pinned ("HOST:PORT:ADDRESS", empty for an address)
# and curl's --resolve to the checked address, so that curl connects there and nowhere else (a
# name that resolves differently a moment later changes nothing).
pin() {
  local checked host port address
  checked="$(check_url "$1")" || exit 2
  read -r host port address <<<"$checked"
  hop_host="$host"
  pinned=""
  resolve_option=()
  if [[ "$host" != "$address" ]]; then
    [[ "$address" == *:* ]] && address="[$address]"
    pinned="$host:$port:$address"
    resolve_option=(--resolve "$pinned")
  fi
}

# json_string VALUE: VALUE as a JSON string (callers refuse control characters first).
json_string() {
  local value="${1//\\/\\\\}"
  printf '"%s"' "${value//\"/\\\"}"
}

# result JSON: the one line the control plane reads back from the output.
result() { printf 'NESTOPS_RESULT %s\n' "$1"; }

# Installs a WebUI extension from a git repository, or updates one, then restarts the WebUI.
# Arguments: MODE (install | update), NAME (folder under extensions/), URL (where to fetch
# from, a mirror prefix included), REF (branch, tag or commit; empty: the default branch),
# RESTART (0 | 1), TIMEOUT (seconds to wait for the WebUI), ALLOW_PRIVATE (0 | 1: private
# addresses and http:// allowed), WEBUI_USER, WEBUI_PASSWORD, PORT.
set -euo pipefail
# nestops:include common.sh
# nestops:address-policy

name="$NESTOPS_ARG_NAME"
[[ "$name" =~ ^[A-Za-z0-9][A-Za-z0-9._-]*$ ]] || fail "'$name' is not an extension folder name"
url="$NESTOPS_ARG_URL"
is_plain "$url" || fail "the URL is empty or contains control characters"
check_allow_private
[[ "$url" =~ ^https://[^/]+/ || ("$allow_private" == 1 && "$url" =~ ^http://[^/]+/) ]] ||
  fail "extensions are fetched over https:// only (http:// only where private sources are allowed)"
ref="$NESTOPS_ARG_REF"
[[ -z "$ref" || ("$ref" =~ ^[A-Za-z0-9][A-Za-z0-9._/-]*$ && "$ref" != *..* && "$ref" != -*) ]] ||
  fail "'$ref' is not a branch, tag or commit name"
[[ "$NESTOPS_ARG_TIMEOUT" =~ ^[0-9]+$ ]] || fail "the timeout is not a number"
check_account
extensions="$(resolve_dir extensions extensions)"
dir="$extensions/$name"
# The policy checks the URL where this host resolves it; git connects to that address only.
pin "$url"

# No prompts (a private repository fails at once), no other transport than https (http where
# allowed), no redirects, no hooks, no submodules: only the repository's files arrive.
export GIT_TERMINAL_PROMPT=0 GIT_ASKPASS=true GIT_ALLOW_PROTOCOL=https
http_allowed=never
if [[ "$allow_private" == 1 ]]; then
  GIT_ALLOW_PROTOCOL=http:https
  http_allowed=always
fi
git_safe() {
  git -c protocol.allow=never -c protocol.https.allow=always -c protocol.http.allow="$http_allowed" \
    -c http.followRedirects=false -c http.curloptResolve="$pinned" \
    -c core.hooksPath=/dev/null -c submodule.recurse=false -c advice.detachedHead=false "$@"
}
# fetch_into DIR: the commit of REF (or the remote's HEAD), without history.
fetch_into() {
  git_safe -C "$1" fetch --quiet --depth 1 origin "${ref:-HEAD}"
  git_safe -C "$1" checkout --quiet --force FETCH_HEAD
}

case "$NESTOPS_ARG_MODE" in
  install)
    [[ ! -e "$dir" && ! -L "$dir" ]] || fail "extensions/$name already exists"
    mkdir -p -- "$extensions"
    # Fetched beside extensions/ (not inside it: the WebUI would load a half-made folder),
    # then moved in at once.
    staging="$(mktemp -d -- "$(webui_real)/.nestops-extension.XXXXXX")"
    trap 'rm -rf -- "$staging"' EXIT
    git_safe init --quiet -- "$staging"
    git_safe -C "$staging" remote add origin "$url"
    fetch_into "$staging"
    mv -T -- "$staging" "$dir"
    trap - EXIT
    echo "installed extensions/$name from $url${ref:+ ($ref)}"
    ;;
  update)
    [[ -d "$dir" && ! -L "$dir" && -d "$dir/.git" ]] ||
      fail "extensions/$name is not a git checkout that nestops can update"
    git_safe -C "$dir" remote set-url origin "$url"
    fetch_into "$dir"
    echo "updated extensions/$name from $url${ref:+ ($ref)}"
    ;;
  *) fail "unknown mode '$NESTOPS_ARG_MODE'" ;;
esac
commit="$(git_safe -C "$dir" rev-parse HEAD)"
echo "extensions/$name is at $commit"

if [[ "$NESTOPS_ARG_RESTART" == 1 ]]; then
  systemctl restart sd-webui
  echo "sd-webui restarted; waiting for it to answer"
  wait_webui "$NESTOPS_ARG_TIMEOUT"
fi
result "{\"name\": $(json_string "$name"), \"commit\": \"$commit\", \"restarted\": $([[ "$NESTOPS_ARG_RESTART" == 1 ]] && echo true || echo false)}"

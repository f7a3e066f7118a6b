# Downloads one model file into the WebUI's folders, checks it, and asks the WebUI to list it.
# Arguments: MODE (download | discard: remove what a cancelled download left), URL, FOLDER
# (relative to the WebUI directory, under models/ or embeddings/), FILENAME, SHA256 (may be
# empty), OVERWRITE (0 | 1), MAX_BYTES, RESERVE_BYTES (free space kept besides the file),
# EXTENSIONS (allowed suffixes, space-separated), TOKEN (bearer token for the site, may be
# empty), ALLOW_PRIVATE (0 | 1: private addresses and http:// allowed), WEBUI_USER,
# WEBUI_PASSWORD, PORT, CONNECTIONS (1-16, default 16: parallel byte ranges for a large file
# from a server that takes ranges; the team's setting, else NESTOPS_DOWNLOAD_CONNECTIONS).
set -euo pipefail
# nestops:include common.sh
# nestops:address-policy

name="$NESTOPS_ARG_FILENAME"
folder="$NESTOPS_ARG_FOLDER"
check_leaf "$name"
[[ "$name" != [.-]* ]] || fail "the file name must not start with '.' or '-'"
suffix=".${name##*.}"
[[ "$name" == *.* && " ${NESTOPS_ARG_EXTENSIONS,,} " == *" ${suffix,,} "* ]] ||
  fail "'$name' does not end with one of: $NESTOPS_ARG_EXTENSIONS"
top="${folder%%/*}"
[[ "$top" == models || "$top" == embeddings ]] || fail "models go under models/ or embeddings/, not '$folder'"
dir="$(resolve_dir "$top" "$folder")"
target="$dir/$name"
# The partial file sits next to the target (same filesystem: the final mv is atomic) under a
# name the WebUI ignores; .source records which URL it belongs to.
part="$dir/.$name.nestops-part"
part_source="$part.source"
# "PHASE BYTES TOTAL MILLISECONDS" for download_progress.sh, rewritten every second while the
# script runs; the host's clock times each sample, so the speed does not depend on when the
# control plane reads it.
part_progress="$part.progress"
trap 'rm -f -- "$part_progress"' EXIT
progress() { printf '%s %s %s %s\n' "$1" "$2" "${remote_size:-0}" "$(date +%s%3N)" >"$part_progress"; }

if [[ "$NESTOPS_ARG_MODE" == discard ]]; then
  rm -f -- "$part" "$part_source" "$part".seg.*
  echo "removed the partial download of $folder/$name"
  result '{"discarded": true}'
  exit 0
fi
[[ "$NESTOPS_ARG_MODE" == download ]] || fail "unknown mode '$NESTOPS_ARG_MODE'"

url="$NESTOPS_ARG_URL"
is_plain "$url" || fail "the URL is empty or contains control characters"
[[ "$url" =~ ^https?://[^/]+ ]] || fail "only http:// and https:// URLs are downloaded"
expected="${NESTOPS_ARG_SHA256,,}"
[[ -z "$expected" || "$expected" =~ ^[0-9a-f]{64}$ ]] || fail "the SHA-256 is not 64 hexadecimal characters"
[[ "$NESTOPS_ARG_MAX_BYTES" =~ ^[0-9]+$ && "$NESTOPS_ARG_RESERVE_BYTES" =~ ^[0-9]+$ ]] ||
  fail "the size limits are not numbers"
max=$NESTOPS_ARG_MAX_BYTES
reserve=$NESTOPS_ARG_RESERVE_BYTES
token="${NESTOPS_ARG_TOKEN:-}"
[[ -z "$token" || "$token" =~ ^[A-Za-z0-9._~+/=:-]+$ ]] || fail "the token has characters a token cannot have"
check_account

if [[ -L "$target" || (-e "$target" && ! -f "$target") ]]; then
  fail "$folder/$name exists and is not a regular file"
fi
if [[ -e "$target" && "$NESTOPS_ARG_OVERWRITE" != 1 ]]; then
  fail "$folder/$name already exists; delete it first or ask to overwrite it"
fi
mkdir -p -- "$dir"

check_allow_private
protocols="=https"
[[ "$allow_private" == 1 ]] && protocols="=http,https"

# Secrets go to curl as configuration on stdin, never on its command line. The token goes to
# the URL's own host only, never to a host a redirect leads to.
config=""
[[ -n "$token" ]] && config="header = \"Authorization: Bearer $token\""
curl_options=(
  --globoff --proto "$protocols" --proto-redir "$protocols" --max-redirs 0
  --fail --silent --show-error --connect-timeout 30 --user-agent nestops
)

# Redirects are followed here, one hop at a time: each Location goes through the policy (and
# is pinned) before anything is sent to it.
source_digest="$(printf '%s' "$url" | sha256sum | cut -d' ' -f1)"
pin "$url"
first_host="$hop_host"
hops=0
while :; do
  headers="$(curl -K - "${curl_options[@]}" "${resolve_option[@]}" --head --max-time 60 \
    --dump-header - --output /dev/null --write-out 'nestops-hop %{http_code} %{redirect_url}\n' \
    --url "$url" <<<"$config" 2>/dev/null | tr -d '\r')" || true
  read -r _ code next <<<"$(grep '^nestops-hop ' <<<"$headers" | tail -n 1)" || true
  [[ "${code:-}" == 30[12378] && -n "${next:-}" ]] || break
  ((++hops <= 10)) || fail "the server redirected more than 10 times"
  pin "$next"
  url="$next"
  [[ "$hop_host" == "$first_host" ]] || config=""
  echo "redirected to $hop_host"
done
remote_size="$(awk '/^HTTP\// { n = "" } tolower($1) == "content-length:" { n = $2 } END { print n }' \
  <<<"$headers")"
[[ "$remote_size" =~ ^[0-9]+$ ]] || remote_size=""

if [[ -f "$part_source" && "$(cat -- "$part_source" 2>/dev/null || true)" != "$source_digest" ]]; then
  rm -f -- "$part" "$part".seg.*
fi

# A large file from a server that takes byte ranges comes in CONNECTIONS ranges at once (a
# site that limits each connection is then as fast as the link), each written in place into
# the partial file; "$part.seg.<count>-<index>" holds how many bytes of its range are there (to
# resume). The layout is derived from the size and the count.
connections="${NESTOPS_ARG_CONNECTIONS:-16}"
[[ "$connections" =~ ^[0-9]+$ ]] && ((connections >= 1 && connections <= 16)) ||
  fail "CONNECTIONS is not a number from 1 to 16"
segment_min=$((8 * 1024 * 1024))
segments=1
if [[ -n "$remote_size" ]] && grep -qi '^accept-ranges: *bytes' <<<"$headers"; then
  segments=$((remote_size / segment_min))
  ((segments > connections)) && segments=$connections
  ((segments < 1)) && segments=1
fi
segment_length=$(((${remote_size:-0} + segments - 1) / segments))
have=0
if ((segments > 1)); then
  for seg in "$part".seg.*; do
    [[ -f "$seg" ]] || continue
    done_bytes="$(cat -- "$seg" 2>/dev/null || true)"
    if [[ "${seg##*.seg.}" =~ ^$segments-[0-9]+$ && "$done_bytes" =~ ^[0-9]+$ ]]; then
      have=$((have + done_bytes))
    else
      rm -f -- "$seg"
    fi
  done
  ((have > 0)) || rm -f -- "$part"
else
  rm -f -- "$part".seg.*
  [[ -f "$part" ]] && have="$(stat -c %s -- "$part")"
fi

if [[ -n "$remote_size" ]]; then
  ((remote_size <= max)) || fail "the file has $remote_size bytes; the limit is $max (NESTOPS_DOWNLOAD_MAX_BYTES)"
  need=$((remote_size - have + reserve))
else
  need=$reserve
fi
free="$(df -P -B1 -- "$dir" | awk 'NR == 2 { print $4 }')"
((free >= need)) || fail "not enough free space in $folder: $free bytes free, $need needed (the file and $reserve kept free)"
resuming=""
((have > 0)) && resuming=" (resuming after $have bytes)"
echo "downloading ${remote_size:-an unknown number of} bytes into $folder/$name$resuming"
progress downloading "$have"

# watch_size PID: writes the progress and stops curl when the file outgrows the limit (a server
# that sends no length).
watch_size() {
  local now
  while sleep 1; do
    now="$(stat -c %s -- "$part" 2>/dev/null || echo 0)"
    progress downloading "$now"
    if ((now > max)); then
      kill "$1" 2>/dev/null || true
      return
    fi
  done
}

# fetch: one curl run resuming into the partial file; returns curl's exit status.
fetch() {
  local status=0 curl_pid watch_pid
  curl -K - "${curl_options[@]}" "${resolve_option[@]}" --continue-at - --retry 3 \
    --retry-delay 2 --max-filesize "$max" --output "$part" --write-out '%{http_code}' \
    --url "$url" <<<"$config" >"$part.status" &
  curl_pid=$!
  watch_size "$curl_pid" &
  watch_pid=$!
  wait "$curl_pid" || status=$?
  kill "$watch_pid" 2>/dev/null || true
  if [[ "$(cat -- "$part.status" 2>/dev/null)" == 3* ]]; then
    rm -f -- "$part" "$part.status" "$part_source"
    fail "the server redirected the download where it had not redirected the check; nothing was kept"
  fi
  rm -f -- "$part.status"
  return "$status"
}

# fetch_segment INDEX: range INDEX written in place (dd at its offset, never past its end),
# resuming from what its progress file says; a few tries. Only a 206 answer counts.
fetch_segment() {
  local seg="$part.seg.$segments-$1" start=$(($1 * segment_length)) end try have code copied
  end=$((start + segment_length - 1))
  ((end < remote_size)) || end=$((remote_size - 1))
  for try in 1 2 3 4; do
    have="$(cat -- "$seg" 2>/dev/null || echo 0)"
    [[ "$have" =~ ^[0-9]+$ ]] || have=0
    ((have > end - start)) && return 0
    curl -K - "${curl_options[@]}" "${resolve_option[@]}" --range "$((start + have))-$end" \
      --write-out '%{stderr}%{http_code}' --url "$url" <<<"$config" 2>"$seg.code" |
      dd of="$part" bs=1M seek=$((start + have)) count=$((end - start - have + 1)) \
        iflag=count_bytes,fullblock oflag=seek_bytes conv=notrunc 2>"$seg.dd" || true
    code="$(tail -c 3 -- "$seg.code" 2>/dev/null || true)"
    if [[ "$code" == 3* ]]; then
      echo "redirect" >"$seg.redirected"
      return 1
    fi
    copied="$(grep -o '^[0-9]* bytes' -- "$seg.dd" | cut -d' ' -f1 || true)"
    [[ "$code" == 206 && "$copied" =~ ^[0-9]+$ ]] && printf '%s\n' "$((have + copied))" >"$seg"
    [[ "$code" == 206 ]] || sleep 1
  done
  have="$(cat -- "$seg" 2>/dev/null || echo 0)"
  ((have > end - start))
}

# watch_segments: writes the progress of the ranges every second: the bytes the partial file
# holds on disk (it starts empty and each range is written in place, so its holes are what is
# still missing), never more than the file.
watch_segments() {
  local now
  while sleep 1; do
    now="$(du -B1 -- "$part" 2>/dev/null | cut -f1)"
    [[ "$now" =~ ^[0-9]+$ ]] || now=0
    ((now > remote_size)) && now=$remote_size
    ((now < have)) && now=$have
    progress downloading "$now"
  done
}

# fetch_segments: every range at once into the partial file.
fetch_segments() {
  local index pids=() failed=0 watch_pid
  [[ -f "$part" ]] || : >"$part"
  watch_segments &
  watch_pid=$!
  for ((index = 0; index < segments; index++)); do
    fetch_segment "$index" &
    pids+=("$!")
  done
  for index in "${pids[@]}"; do wait "$index" || failed=1; done
  kill "$watch_pid" 2>/dev/null || true
  rm -f -- "$part".seg.*.code "$part".seg.*.dd
  if compgen -G "$part.seg.*.redirected" >/dev/null; then
    rm -f -- "$part" "$part".seg.* "$part_source"
    fail "the server redirected the download where it had not redirected the check; nothing was kept"
  fi
  ((failed == 0)) || return 22
  rm -f -- "$part".seg.*
}

printf '%s\n' "$source_digest" >"$part_source"
started=$SECONDS
status=0
if ((segments > 1)); then
  echo "in $segments byte ranges at once"
  fetch_segments || status=$?
else
  fetch || status=$?
  if ((status == 33 || status == 36)); then
    echo "the server cannot resume; starting again from the first byte"
    rm -f -- "$part"
    status=0
    fetch || status=$?
  fi
fi
size="$(stat -c %s -- "$part" 2>/dev/null || echo 0)"
if ((size > max || status == 63)); then
  rm -f -- "$part" "$part_source"
  fail "the file is larger than the limit of $max bytes (NESTOPS_DOWNLOAD_MAX_BYTES); nothing was kept"
fi
if ((status != 0)); then
  ((segments > 1)) && size="$(cat -- "$part".seg.* 2>/dev/null | awk '{ n += $1 } END { print n + 0 }')"
  kept=""
  ((size > 0)) && kept="; $size bytes are kept to resume"
  echo "the download failed (curl exit status $status)$kept" >&2
  exit "$status"
fi

progress verifying "$size"
sha="$(sha256sum -- "$part" | cut -d' ' -f1)"
if [[ -n "$expected" && "$sha" != "$expected" ]]; then
  rm -f -- "$part" "$part_source"
  fail "the SHA-256 of the file is $sha, not $expected; the file was removed"
fi
if [[ -e "$target" && "$NESTOPS_ARG_OVERWRITE" != 1 ]]; then
  fail "$folder/$name appeared meanwhile; it was not replaced"
fi
mv -f -- "$part" "$target"
rm -f -- "$part_source"
chmod 0644 -- "$target"
echo "saved $folder/$name: $size bytes in $((SECONDS - started)) s over $segments connection(s), SHA-256 $sha"
refresh="$(refresh_webui)"
result "{\"path\": $(json_string "$folder/$name"), \"size\": $size, \"sha256\": \"$sha\", \"refresh\": $refresh}"

# Lists the model files and extensions on the host as one compact JSON line, a page at a time:
# OOS keeps only the last 24 KB of output, so a page stops near BUDGET characters and says
# where the next one starts.
# Arguments: OFFSET (first model file of this page, in path order), BUDGET (characters),
# EXTENSIONS (model file suffixes, space-separated).
set -euo pipefail
# nestops:include common.sh

[[ "$NESTOPS_ARG_OFFSET" =~ ^[0-9]+$ && "$NESTOPS_ARG_BUDGET" =~ ^[0-9]+$ ]] ||
  fail "the offset and budget are not numbers"
offset=$NESTOPS_ARG_OFFSET
budget=$NESTOPS_ARG_BUDGET
base="$(webui_real)"
cd -- "$base"

suffixes=()
for suffix in $NESTOPS_ARG_EXTENSIONS; do
  [[ "$suffix" =~ ^\.[A-Za-z0-9]+$ ]] || fail "'$suffix' is not a file suffix"
  suffixes+=(${suffixes[@]:+-o} -iname "*$suffix")
done
folders=()
for folder in models embeddings; do
  # A model folder that is a symlink out of the WebUI directory is not listed.
  [[ -d "$folder" ]] && inside "$(realpath -e -- "$folder")" "$base" && folders+=("$folder")
done

# Entries: [path, size, modified (epoch s), has a preview]. Names with control characters
# cannot be named safely in a script argument: they are counted, not listed.
models=""
index=0
listed=0
skipped=0
next=null
length=0
while IFS= read -r -d '' line; do
  size="${line%% *}"
  rest="${line#* }"
  modified="${rest%%.*}"
  path="${rest#* }"
  if [[ "$path" == *[[:cntrl:]]* ]]; then
    skipped=$((skipped + 1))
    continue
  fi
  index=$((index + 1))
  ((index > offset)) || continue
  stem="${path%.*}"
  preview=false
  for image in "$stem".{preview.,}{png,jpg,jpeg,webp}; do
    [[ -f "$image" ]] && preview=true && break
  done
  entry="[$(json_string "$path"), $size, $modified, $preview]"
  if ((length + ${#entry} > budget && listed > 0)); then
    next=$((index - 1))
    break
  fi
  models+="${models:+,}$entry"
  length=$((length + ${#entry} + 1))
  listed=$((listed + 1))
done < <(
  if ((${#folders[@]})); then
    find "${folders[@]}" -type f \( "${suffixes[@]}" \) -printf '%s %T@ %p\0' | LC_ALL=C sort -z -k3
  fi
)

# Extensions come with the first page only; they are few.
extensions=""
if ((offset == 0)) && [[ -d extensions ]] && inside "$(realpath -e -- extensions)" "$base"; then
  for dir in extensions/*/; do
    [[ -d "$dir" ]] || continue
    name="$(basename -- "$dir")"
    [[ "$name" != *[[:cntrl:]]* ]] || continue
    remote=""
    commit=""
    # Only a checkout of its own: git would otherwise answer for the WebUI's own repository.
    if [[ -e "$dir/.git" ]]; then
      remote="$(git -C "$dir" config --get remote.origin.url 2>/dev/null || true)"
      commit="$(git -C "$dir" rev-parse HEAD 2>/dev/null || true)"
    fi
    # Credentials in a remote (https://user:token@host/...) never leave the host.
    remote="$(printf '%s' "$remote" | sed -E 's#^([a-z]+://)[^/@]*@#\1#' | tr -d '[:cntrl:]')"
    [[ "$commit" =~ ^[0-9a-f]{40}$ ]] || commit=""
    extensions+="${extensions:+,}[$(json_string "$name"), $(json_string "$remote"), \"$commit\"]"
  done
fi

echo "listed $listed model files from #$((offset + 1))" >&2
((skipped == 0)) || echo "skipped $skipped files with control characters in their names" >&2
# The WebUI disk's free and total bytes.
disk="$(df -P -B1 -- "$base" | awk 'NR == 2 { print $4 ", " $2 }')"
result "{\"v\": 1, \"models\": [$models], \"extensions\": [$extensions], \"next\": $next, \"disk\": [${disk:-null, null}]}"

# Sets the WebUI's API and UI credentials and, with TLS=1, its TLS certificate; restarts it and
# waits until it answers. Arguments: WEBUI_USER, WEBUI_PASSWORD, PORT, TIMEOUT, TLS (0 | 1).
# With TLS=1 the host keeps one self-signed key and certificate (made once, kept across
# restarts and re-configures) and prints the certificate, never the key, between the
# NESTOPS_CERTIFICATE lines: the control plane records it and the gateway pins it.
set -euo pipefail
# nestops:include common.sh

check_account
[[ "$NESTOPS_ARG_PORT" =~ ^[0-9]+$ && "$NESTOPS_ARG_TIMEOUT" =~ ^[0-9]+$ ]] ||
  fail "the port and timeout are not numbers"
[[ "${NESTOPS_ARG_TLS:-0}" == [01] ]] || fail "TLS is not 0 or 1"
env_file="$root/etc/sd-webui/webui.env"
auth="${NESTOPS_ARG_WEBUI_USER}:${NESTOPS_ARG_WEBUI_PASSWORD}"
tls_args=""

if [[ "${NESTOPS_ARG_TLS:-0}" == 1 ]]; then
  command -v openssl >/dev/null || fail "openssl is needed for the WebUI's TLS certificate"
  mkdir -p "$webui_tls_dir"
  chmod 0755 "$webui_tls_dir"
  if [[ ! -s "$webui_tls_key" || ! -s "$webui_tls_cert" ]]; then
    # The key never leaves the host: written 0600 from the start, then given to the WebUI's
    # user (the owner of its directory; root on the nestops image).
    (
      umask 077
      openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 3650 \
        -subj "/CN=nestops WebUI" -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" \
        -keyout "$webui_tls_key.new" -out "$webui_tls_cert.new" 2>/dev/null
    ) || fail "openssl could not make the WebUI's certificate"
    chmod 0600 "$webui_tls_key.new"
    chown --reference="$webui_dir" "$webui_tls_key.new" 2>/dev/null || true
    chmod 0644 "$webui_tls_cert.new"
    mv -f "$webui_tls_key.new" "$webui_tls_key"
    mv -f "$webui_tls_cert.new" "$webui_tls_cert"
    echo "made the WebUI's TLS key and certificate in /etc/sd-webui/tls"
  fi
  tls_args=" --tls-keyfile $(shown "$webui_tls_key") --tls-certfile $(shown "$webui_tls_cert")"
fi

mkdir -p "$(dirname "$env_file")"
umask 077
tmp="$(mktemp "$env_file.XXXXXX")"
printf 'COMMANDLINE_ARGS="--listen --port %s --api --api-auth %s --gradio-auth %s%s"\n' \
  "$NESTOPS_ARG_PORT" "$auth" "$auth" "$tls_args" >"$tmp"
mv -f "$tmp" "$env_file"
echo "credentials written to /etc/sd-webui/webui.env"

systemctl restart sd-webui
echo "sd-webui restarted; waiting for it to answer"
wait_webui "$NESTOPS_ARG_TIMEOUT"
echo "WebUI is ready"
if [[ -n "$tls_args" ]]; then
  # openssl x509 prints only the certificate, whatever else the file might hold.
  echo "NESTOPS_CERTIFICATE_BEGIN"
  openssl x509 -in "$webui_tls_cert" -outform PEM
  echo "NESTOPS_CERTIFICATE_END"
  echo "NESTOPS_RESULT {\"tls\": true, \"port\": $webui_port}"
else
  echo "NESTOPS_RESULT {\"tls\": false, \"port\": $webui_port}"
fi

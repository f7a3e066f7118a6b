"""Host TLS certificates: reading the one a host printed, and trusting exactly it.

A host's WebUI serves a self-signed certificate made by ``configure_webui.sh``; the control
plane and the gateway trust that certificate alone for that host (a pin), whatever name or
address it is reached by, and never the public CAs.
"""

from __future__ import annotations

import functools
import ssl

from cryptography import x509
from cryptography.hazmat.primitives import hashes

BLOCK_BEGIN = "NESTOPS_CERTIFICATE_BEGIN"
BLOCK_END = "NESTOPS_CERTIFICATE_END"
PEM_BEGIN = "-----BEGIN CERTIFICATE-----"
PEM_END = "-----END CERTIFICATE-----"


class InvalidCertificate(ValueError):
    """Not one PEM X.509 certificate (or something else, such as a key, came with it)."""


def load(pem: str) -> tuple[str, str]:
    """(the certificate as PEM, its SHA-256 fingerprint in hex) of exactly one PEM
    certificate and nothing else."""
    text = pem.strip()
    if not (text.startswith(PEM_BEGIN) and text.endswith(PEM_END)) or text.count(PEM_BEGIN) != 1:
        raise InvalidCertificate("expected one PEM X.509 certificate and nothing else")
    try:
        certificate = x509.load_pem_x509_certificate(text.encode("ascii"))
    except (ValueError, UnicodeEncodeError):
        raise InvalidCertificate("expected one PEM X.509 certificate") from None
    return text + "\n", certificate.fingerprint(hashes.SHA256()).hex()


def split_block(output: str) -> tuple[str, str | None]:
    """(the output without its certificate block, the text inside the block) of a host
    script's output; None when it printed no complete block."""
    lines = output.splitlines()
    try:
        begin = lines.index(BLOCK_BEGIN)
        end = lines.index(BLOCK_END, begin)
    except ValueError:
        return output, None
    kept = lines[:begin] + lines[end + 1 :]
    return "\n".join(kept), "\n".join(lines[begin + 1 : end])


@functools.lru_cache(maxsize=1024)
def pinned_context(pem: str) -> ssl.SSLContext:
    """A client context that trusts exactly one self-signed certificate, whatever name or IP
    it is reached by."""
    context = ssl.create_default_context(cadata=pem)
    context.check_hostname = False
    return context

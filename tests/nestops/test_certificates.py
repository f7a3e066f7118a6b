"""Reading the certificate a host printed: exactly one PEM certificate, never a key."""

from __future__ import annotations

import subprocess

import pytest

from nestops import certificates


@pytest.fixture(scope="module")
def made(tmp_path_factory) -> tuple[str, str]:
    folder = tmp_path_factory.mktemp("tls")
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
            "-nodes", "-days", "1", "-subj", "/CN=t",
            "-keyout", str(folder / "k"), "-out", str(folder / "c"),
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return (folder / "c").read_text(), (folder / "k").read_text()


def test_it_reads_one_certificate_and_its_fingerprint(made):
    pem, _key = made
    text, sha256 = certificates.load(pem)
    assert text == pem.strip() + "\n" and len(sha256) == 64


@pytest.mark.parametrize(
    "shape",
    [
        lambda pem, key: pem + key,
        lambda pem, key: key + pem,
        lambda pem, key: key,
        lambda pem, key: pem + pem,
        lambda pem, key: "-----BEGIN CERTIFICATE-----\nno\n-----END CERTIFICATE-----\n",
        lambda pem, key: "",
    ],
)
def test_it_refuses_anything_but_one_certificate(made, shape):
    pem, key = made
    with pytest.raises(certificates.InvalidCertificate):
        certificates.load(shape(pem, key))


def test_the_block_is_taken_out_of_the_output(made):
    pem, _key = made
    output = "\n".join(
        ["before", certificates.BLOCK_BEGIN, pem.strip(), certificates.BLOCK_END, "after"]
    )
    rest, block = certificates.split_block(output)
    assert rest == "before\nafter" and block == pem.strip()
    assert certificates.split_block("no block here") == ("no block here", None)
    assert certificates.split_block(certificates.BLOCK_BEGIN + "\nhalf")[1] is None

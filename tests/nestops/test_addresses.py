"""The outbound address policy with hostile spellings: every way of writing a loopback, private
or metadata address is recognised, and spellings clients read differently are refused."""

from __future__ import annotations

import pytest

from nestops import addresses
from nestops.addresses import AddressRefused, HostKind

# 127.0.0.1 in full-width digits and stops, which IDNA maps to ASCII.
FULLWIDTH_LOOPBACK = "\uff11\uff12\uff17\uff0e\uff10\uff0e\uff10\uff0e\uff11"
# (URL, what the policy refuses it as when private addresses are not allowed)
HOSTILE = [
    # The metadata service, spelled every way.
    ("http://100.100.100.200/latest/meta-data/", "forbidden"),
    ("http://[::ffff:100.100.100.200]/latest/meta-data/ram/security-credentials/", "forbidden"),
    ("http://[::ffff:6464:64c8]/", "forbidden"),
    ("http://[64:ff9b::6464:64c8]/", "forbidden"),
    ("http://[64:ff9b::100.100.100.200]/", "forbidden"),
    ("http://[64:ff9b:1::6464:64c8]/", "forbidden"),
    ("http://[::100.100.100.200]/", "forbidden"),
    ("http://[::ffff:0:6464:64c8]/", "forbidden"),
    ("http://[2002:6464:64c8::1]/", "forbidden"),
    ("http://1684301000/", "forbidden"),
    ("http://0x64646464c8/", "spelling"),
    ("http://0x646464c8/", "forbidden"),
    ("http://0144.0144.0144.0310/", "forbidden"),
    ("http://100.100.25800/", "forbidden"),
    ("http://100.6579400/", "forbidden"),
    ("http://100.100.100.200./", "forbidden"),
    ("http://%31%30%30.100.100.200/", "forbidden"),
    ("http://metadata.google.internal/", "forbidden"),
    # Link-local (the other clouds' metadata) and multicast.
    ("http://169.254.169.254/latest/", "forbidden"),
    ("http://2852039166/", "forbidden"),
    ("http://0xa9fea9fe/", "forbidden"),
    ("http://[::ffff:169.254.169.254]/", "forbidden"),
    ("http://[fe80::1%25eth0]/", "forbidden"),
    ("http://[fd00:ec2::254]/", "forbidden"),
    ("http://224.0.0.1/", "forbidden"),
    ("http://[ff02::1]/", "forbidden"),
    # Loopback.
    ("http://127.0.0.1/", "private"),
    ("http://2130706433/", "private"),
    ("http://0x7f.1/", "private"),
    ("http://0x7f000001/", "private"),
    ("http://017700000001/", "private"),
    ("http://0177.0.0.1/", "private"),
    ("http://127.1/", "private"),
    ("http://127.0.1/", "private"),
    ("http://0/", "private"),
    ("http://0.0.0.0/", "private"),
    ("http://[::1]/", "private"),
    ("http://[::]/", "private"),
    ("http://[::127.0.0.1]/", "private"),
    ("http://[::ffff:127.0.0.1]/", "private"),
    ("http://[::ffff:7f00:1]/", "private"),
    ("http://[64:ff9b::7f00:1]/", "private"),
    ("http://[2002:7f00:1::]/", "private"),
    ("http://localhost/", "private"),
    ("http://LOCALHOST./", "private"),
    ("http://localhost../", "private"),
    ("http://app.localhost/", "private"),
    ("http://ip6-localhost/", "private"),
    ("http://%6c%6f%63%61%6c%68%6f%73%74/", "private"),
    ("http://" + FULLWIDTH_LOOPBACK + "/", "invalid"),
    ("http://{127.0.0.1}/", "private"),
    ("http://{127.0.0.1,8.8.8.8}/", "private"),
    ("http://127.0.0.[1-3]/", "invalid"),
    # Private ranges and the shared (carrier-grade NAT) space Alibaba Cloud's services use.
    ("http://10.0.0.1/", "private"),
    ("http://172.16.5.4/", "private"),
    ("http://192.168.1.1/", "private"),
    ("http://100.100.2.136/", "private"),
    ("http://[fd12:3456::1]/", "private"),
    ("http://[::ffff:10.0.0.1]/", "private"),
    ("http://printer.local/", "private"),
    # Tricks in the authority: user info, backslashes, spaces, other schemes.
    ("http://evil.example@127.0.0.1/", "credentials"),
    ("http://127.0.0.1@evil.example/", "credentials"),
    ("http://evil.example\\@127.0.0.1/", "invalid"),
    ("http://evil.example\\.127.0.0.1/", "invalid"),
    ("http://127.0.0.1 /", "invalid"),
    ("file:///etc/passwd", "scheme"),
    ("gopher://127.0.0.1:70/", "scheme"),
    ("http://127.0.0.1:0/", "invalid"),
    ("http://8.8.8.8:99999/", "invalid"),
]


@pytest.mark.parametrize(("url", "reason"), HOSTILE)
def test_every_spelling_of_a_refused_address_is_refused(url: str, reason: str) -> None:
    with pytest.raises(AddressRefused) as refused:
        addresses.check_url(url, allow_private=False, schemes=("https", "http"))
    assert refused.value.code == reason, (url, str(refused.value))


def test_the_table_is_long_enough() -> None:
    assert len(HOSTILE) >= 40


@pytest.mark.parametrize(
    "url",
    [
        "http://2130706433/",
        "http://127.1/",
        "http://0x7f.0.0.1/",
        "http://localhost./",
        "http://%31%32%37.0.0.1/",
        "http://{127.0.0.1}/",
        "http://1.2.3.4.5/",
    ],
)
def test_even_where_private_addresses_are_allowed_odd_spellings_are_refused(url: str) -> None:
    with pytest.raises(AddressRefused) as refused:
        addresses.check_url(url, allow_private=True, schemes=("https", "http"))
    assert refused.value.code == "spelling"


@pytest.mark.parametrize(
    "url", ["http://100.100.100.200/", "http://[::ffff:6464:64c8]/", "http://[fe80::1]/"]
)
def test_metadata_and_link_local_stay_refused_when_private_addresses_are_allowed(url) -> None:
    with pytest.raises(AddressRefused) as refused:
        addresses.check_url(url, allow_private=True, schemes=("https", "http"))
    assert refused.value.code == "forbidden"


def test_spellings_that_read_as_addresses_are_classified_as_those() -> None:
    # Refused before the URL is even parsed, yet classified as what a client would reach.
    assert addresses.host_kind(FULLWIDTH_LOOPBACK) is HostKind.PRIVATE
    assert addresses.host_kind("127.0.0.[1-3]") is HostKind.PRIVATE
    assert addresses.host_kind("[::ffff:a9fe:a9fe]") is HostKind.FORBIDDEN


def test_public_addresses_and_names_pass() -> None:
    check = addresses.check_url
    assert check("https://huggingface.co/x", allow_private=False).host == "huggingface.co"
    assert check("https://8.8.8.8:8443/x", allow_private=False).port == 8443
    assert check("https://[2606:4700::1111]/", allow_private=False).kind is HostKind.PUBLIC
    assert addresses.host_kind("[::ffff:8.8.8.8]") is HostKind.PUBLIC
    assert addresses.host_kind("[2002:808:808::1]") is HostKind.PUBLIC
    with pytest.raises(AddressRefused, match="only https"):
        check("http://huggingface.co/x", allow_private=False)


def test_names_from_the_hosts_file_are_classified_by_their_address(tmp_path, monkeypatch):
    hosts = tmp_path / "hosts"
    hosts.write_text("127.0.0.1 localhost\n100.100.100.200 innocent.example # alias\n")
    monkeypatch.setattr(addresses, "HOSTS_FILE", str(hosts))
    assert addresses.host_kind("innocent.example.") is HostKind.FORBIDDEN
    assert addresses.host_kind("other.example") is HostKind.PUBLIC


def test_a_name_is_checked_by_every_address_it_resolves_to() -> None:
    with pytest.raises(AddressRefused) as refused:
        addresses.resolve("localhost", 80, allow_private=False)
    assert refused.value.code == "private"
    assert addresses.resolve("localhost", 80, allow_private=True) in ("127.0.0.1", "::1")
    with pytest.raises(AddressRefused) as refused:
        addresses.resolve("nothing.invalid", 80, allow_private=True)
    assert refused.value.code == "unresolved"


def test_the_host_entry_point_prints_the_pinned_address(capsys) -> None:
    assert addresses.main(["http://127.0.0.1:8080/x", "1", "1"]) == 0
    assert capsys.readouterr().out.split() == ["127.0.0.1", "8080", "127.0.0.1"]
    assert addresses.main(["http://127.0.0.1:8080/x", "0", "1"]) == 3
    assert "refused:" in capsys.readouterr().err
    assert addresses.main(["http://127.0.0.1:8080/x", "1", "0"]) == 3
    assert "only https" in capsys.readouterr().err

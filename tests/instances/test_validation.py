from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from instances import validation


@pytest.mark.parametrize(
    "password",
    ["Abcdefg1", "abc123!@#", "ABC123()`~", "Aa1" + "x" * 27, "P@ssw0rd-2024", "aB{}[]:;'<>,.?/"],
)
def test_it_accepts_passwords_that_follow_the_compute_nest_rule(password: str) -> None:
    validation.validate_host_password(password)


@pytest.mark.parametrize(
    ("password", "code"),
    [
        ("Ab1!", "password_length"),
        ("Aa1!" + "x" * 27, "password_length"),
        ("abcdefgh", "password_weak"),
        ("abcdefg1", "password_weak"),
        ("ABCDEFG!", "password_weak"),
        ("Abc def1", "password_characters"),
        ("Abcdefg1\\", "password_characters"),
        ('Abcdefg1"', "password_characters"),
        ("Abcdéfg1", "password_characters"),
    ],
)
def test_it_refuses_passwords_that_break_the_rule(password: str, code: str) -> None:
    with pytest.raises(ValidationError) as caught:
        validation.validate_host_password(password)
    assert caught.value.code == code


def test_it_accepts_the_default_network() -> None:
    assert validation.validate_network("192.168.0.0/16", "192.168.0.0/24") == {}
    assert validation.validate_network("10.0.0.0/8", "10.20.0.0/16") == {}
    assert validation.validate_network("172.16.0.0/12", "172.31.255.248/29") == {}


@pytest.mark.parametrize(
    ("vpc", "vswitch", "field", "fragment"),
    [
        ("8.8.0.0/16", "8.8.0.0/24", "vpc_cidr", "10.0.0.0/8"),
        ("192.168.0.0/25", "192.168.0.0/26", "vpc_cidr", "/8 and /24"),
        ("192.168.0.0/16", "192.168.0.0/30", "vswitch_cidr", "/16 and /29"),
        ("192.168.0.0/16", "10.0.0.0/24", "vswitch_cidr", "inside the VPC"),
        ("192.168.0.1/16", "192.168.0.0/24", "vpc_cidr", "did you mean 192.168.0.0/16"),
        ("banana", "192.168.0.0/24", "vpc_cidr", "IPv4 CIDR block"),
        ("192.168.0.0/33", "192.168.0.0/24", "vpc_cidr", "IPv4 CIDR block"),
    ],
)
def test_it_names_the_field_and_the_rule_for_a_bad_network(vpc, vswitch, field, fragment) -> None:
    errors = validation.validate_network(vpc, vswitch)
    assert field in errors
    assert fragment in " ".join(errors[field])


def test_a_subscription_needs_a_period_the_cloud_sells() -> None:
    validation.validate_period("PostPaid", None, None)
    validation.validate_period("PrePaid", 1, "Month")
    validation.validate_period("PrePaid", 12, "Month")
    validation.validate_period("PrePaid", 4, "Week")
    for period, unit in ((None, "Month"), (10, "Month"), (5, "Week"), (1, "Day")):
        with pytest.raises(ValidationError):
            validation.validate_period("PrePaid", period, unit)


@pytest.mark.parametrize("name", ["webui-1", "团队绘图", "a.b_c", "Sd"])
def test_it_accepts_reasonable_names(name: str) -> None:
    validation.validate_instance_name(name)


@pytest.mark.parametrize("name", ["", "a", "1abc", "has space", "x" * 65, "rm -rf;", "$(id)"])
def test_it_refuses_unreasonable_names(name: str) -> None:
    with pytest.raises(ValidationError):
        validation.validate_instance_name(name)

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured

from nestops.env import Env, parse_database_url


def test_it_reads_booleans_in_the_usual_spellings() -> None:
    env = Env({"A": "yes", "B": "Off", "C": "1", "D": " "})
    assert env.bool("A", False) is True
    assert env.bool("B", True) is False
    assert env.bool("C", False) is True
    assert env.bool("D", True) is True  # blank means unset


def test_it_names_the_variable_and_the_expected_form_for_a_bad_boolean() -> None:
    with pytest.raises(ImproperlyConfigured, match=r"NESTOPS_DEBUG='maybe'.*true/false"):
        Env({"NESTOPS_DEBUG": "maybe"}).bool("NESTOPS_DEBUG", False)


def test_it_refuses_numbers_out_of_range_or_not_numbers() -> None:
    env = Env({"PORT": "70000", "X": "ten", "F": "nan"})
    with pytest.raises(ImproperlyConfigured, match=r"PORT='70000'.*at most 65535"):
        env.int("PORT", 1, minimum=1, maximum=65535)
    with pytest.raises(ImproperlyConfigured, match=r"X='ten'.*whole number"):
        env.int("X", 1)
    with pytest.raises(ImproperlyConfigured, match="finite"):
        env.float("F", 1.0)
    assert Env({}).int("PORT", 8000) == 8000


def test_it_accepts_only_listed_choices() -> None:
    with pytest.raises(ImproperlyConfigured, match=r"NESTOPS_CLOUD='aws'.*sim, aliyun"):
        Env({"NESTOPS_CLOUD": "aws"}).choice("NESTOPS_CLOUD", "sim", ("sim", "aliyun"))


def test_it_splits_lists_and_drops_blanks() -> None:
    assert Env({"L": "a, b,,c "}).list("L") == ["a", "b", "c"]
    assert Env({}).list("L", ["x"]) == ["x"]


def test_it_reads_json_and_reports_where_it_breaks() -> None:
    assert Env({"J": '{"a": 1}'}).json("J", None) == {"a": 1}
    with pytest.raises(ImproperlyConfigured, match=r"J=.*valid JSON"):
        Env({"J": "{a:"}).json("J", None)


def test_it_reads_a_secret_from_a_file(tmp_path) -> None:
    secret = tmp_path / "key"
    secret.write_text("s3cret\n")
    assert Env({"KEY_FILE": str(secret)}).secret("KEY") == "s3cret"
    assert Env({"KEY": "direct"}).secret("KEY") == "direct"
    assert Env({}).secret("KEY", "fallback") == "fallback"


def test_it_refuses_a_secret_given_twice_or_a_missing_or_empty_file(tmp_path) -> None:
    with pytest.raises(ImproperlyConfigured, match="Set KEY or KEY_FILE, not both"):
        Env({"KEY": "a", "KEY_FILE": "/nope"}).secret("KEY")
    with pytest.raises(ImproperlyConfigured, match=r"KEY_FILE='/nope' cannot be read"):
        Env({"KEY_FILE": "/nope"}).secret("KEY")
    empty = tmp_path / "empty"
    empty.write_text("")
    with pytest.raises(ImproperlyConfigured, match="is empty"):
        Env({"KEY_FILE": str(empty)}).secret("KEY")


def test_it_parses_sqlite_and_postgres_urls() -> None:
    assert parse_database_url("sqlite:////tmp/x.db") == {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": "/tmp/x.db",
    }
    pg = parse_database_url("postgres://nest:p%40ss@db.example:5433/nestops?sslmode=require")
    assert pg["ENGINE"] == "django.db.backends.postgresql"
    assert (pg["USER"], pg["PASSWORD"], pg["HOST"], pg["PORT"], pg["NAME"]) == (
        "nest",
        "p@ss",
        "db.example",
        "5433",
        "nestops",
    )
    assert pg["OPTIONS"] == {"sslmode": "require"}


def test_it_refuses_other_databases_without_echoing_the_password() -> None:
    with pytest.raises(ImproperlyConfigured) as caught:
        parse_database_url("mysql://root:hunter2@db/x")
    assert "hunter2" not in str(caught.value)
    assert "postgres://" in str(caught.value)
    with pytest.raises(ImproperlyConfigured, match="names no database"):
        parse_database_url("postgres://u:hunter2@db:5432/")


def test_the_settings_module_refuses_a_bad_variable_at_start_up() -> None:
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        env={"DJANGO_SETTINGS_MODULE": "nestops.settings", "NESTOPS_CLOUD": "azure", "PATH": ""},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0
    assert "NESTOPS_CLOUD='azure' is not valid: expected one of sim, aliyun" in result.stderr


def test_it_reads_sizes_with_units() -> None:
    env = Env({"A": "500M", "B": "20G", "C": "1.5TiB", "D": "1048576", "E": "20 GB", "F": "lots"})
    assert env.size("A", 1) == 500 * 1024**2
    assert env.size("B", 1) == 20 * 1024**3
    assert env.size("C", 1) == int(1.5 * 1024**4)
    assert env.size("D", 1) == 1048576
    assert env.size("E", 1) == 20 * 1024**3
    assert env.size("MISSING", 7) == 7
    with pytest.raises(ImproperlyConfigured, match=r"F='lots'.*500M, 20G"):
        env.size("F", 1)


def test_it_reads_host_names_and_url_prefixes() -> None:
    env = Env(
        {"H": "GitHub.com, gitee.com", "BAD": "https://github.com", "M": "https://m.example/"}
    )
    assert env.host_names("H", []) == ["github.com", "gitee.com"]
    assert env.host_names("MISSING", ["github.com"]) == ["github.com"]
    with pytest.raises(ImproperlyConfigured, match="without scheme"):
        env.host_names("BAD", [])
    assert env.url_prefix("M") == "https://m.example/"
    assert env.url_prefix("MISSING") == ""
    for value in ("https://m.example", "ftp://m.example/", "https://u:p@m.example/"):
        with pytest.raises(ImproperlyConfigured, match="ending with /"):
            Env({"P": value}).url_prefix("P")


def test_it_reads_url_bases_without_their_trailing_slash() -> None:
    assert Env({"E": "https://hf-mirror.com/"}).url_base("E") == "https://hf-mirror.com"
    assert Env({"E": "https://m.example/hf"}).url_base("E") == "https://m.example/hf"
    assert Env({}).url_base("E") == ""
    for value in ("hf-mirror.com", "ftp://m.example", "https://u:p@m.example", "https://m/?q=1"):
        with pytest.raises(ImproperlyConfigured, match="without credentials, query"):
            Env({"E": value}).url_base("E")


def test_it_reads_request_rates_as_drf_does() -> None:
    assert Env({"R": "30/min"}).rate("R", "60/min") == "30/min"
    assert Env({}).rate("R", "60/min") == "60/min"
    for bad in ("30", "0/min", "30/week", "ten/min"):
        with pytest.raises(ImproperlyConfigured, match=r"R=.*per s, min, hour or day"):
            Env({"R": bad}).rate("R", "60/min")

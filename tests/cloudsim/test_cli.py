"""``python -m cloudsim``: configuration, the ready line, signals, bad input."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from cloudsim.config import ConfigError, load_config

ROOT = Path(__file__).resolve().parents[2]


def test_defaults_and_environment():
    config = load_config([], env={})
    assert (config.host, config.port, config.speed) == ("127.0.0.1", 9800, 1.0)
    assert config.access_keys == {"nestops-sim": "nestops-sim-secret"}
    config = load_config(
        [],
        env={
            "NESTOPS_SIM_HOST": "0.0.0.0",
            "NESTOPS_SIM_PORT": "9911",
            "NESTOPS_SIM_DATA_DIR": "/tmp/x",
            "NESTOPS_SIM_SPEED": "20",
            "NESTOPS_SIM_ACCESS_KEYS": "a:1, b:2",
        },
    )
    assert (config.host, config.port, str(config.data_dir), config.speed) == (
        "0.0.0.0",
        9911,
        "/tmp/x",
        20.0,
    )
    assert config.access_keys == {"a": "1", "b": "2"}
    config = load_config(["--port", "0", "--access-key", "x:y"], env={"NESTOPS_SIM_PORT": "1"})
    assert (config.port, config.access_keys) == (0, {"x": "y"})
    # make run passes a relative folder; scripts run from inside sandboxes.
    assert load_config(["--data-dir", "var/cloudsim"], env={}).data_dir == (
        (Path.cwd() / "var/cloudsim").resolve()
    )


@pytest.mark.parametrize(
    ("argv", "env", "named"),
    [
        (["--port", "http"], {}, "--port"),
        ([], {"NESTOPS_SIM_PORT": "70000"}, "NESTOPS_SIM_PORT"),
        ([], {"NESTOPS_SIM_SPEED": "fast"}, "NESTOPS_SIM_SPEED"),
        (["--speed", "0"], {}, "--speed"),
        ([], {"NESTOPS_SIM_ACCESS_KEYS": "just-an-id"}, "NESTOPS_SIM_ACCESS_KEYS"),
        (["--access-key", "nosecret"], {}, "--access-key"),
        (["--colour", "red"], {}, "--colour"),
    ],
)
def test_bad_settings_name_the_setting(argv, env, named):
    with pytest.raises(ConfigError, match=named.replace("-", r"\-")):
        load_config(argv, env=env)


def _environment(**extra: str) -> dict[str, str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("NESTOPS_SIM_")}
    environment["PYTHONPATH"] = str(ROOT)
    environment.update(extra)
    return environment


def test_bad_settings_exit_2_with_one_line(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "cloudsim", "--data-dir", str(tmp_path)],
        env=_environment(NESTOPS_SIM_SPEED="fast"),
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "NESTOPS_SIM_SPEED" in lines[0]


@pytest.mark.parametrize("stop_signal", [signal.SIGINT, signal.SIGTERM])
def test_it_prints_one_ready_line_and_stops_cleanly(tmp_path, stop_signal):
    process = subprocess.Popen(
        [sys.executable, "-m", "cloudsim", "--port", "0", "--data-dir", str(tmp_path)],
        env=_environment(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = process.stdout.readline()
        assert line.startswith("cloudsim listening on http://127.0.0.1:")
        assert int(line.strip().rsplit(":", 1)[1]) > 0
        process.send_signal(stop_signal)
        stdout, stderr = process.communicate(timeout=15)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, stderr
    assert stdout == ""
    assert (tmp_path / "state.json").exists()

"""Command line and environment of ``python -m cloudsim``.

Every option has an environment fallback (``NESTOPS_SIM_*``) so that ``make run`` and the
Procfile can set them; a command line option wins over the environment.
"""

from __future__ import annotations

import argparse
import os
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_ACCESS_KEY_ID = "nestops-sim"
DEFAULT_ACCESS_KEY_SECRET = "nestops-sim-secret"


class ConfigError(ValueError):
    """A setting that makes no sense; the message names it and the expected form."""


@dataclass(frozen=True)
class SimConfig:
    """Everything the simulator is started with."""

    host: str = "127.0.0.1"
    port: int = 9800
    data_dir: Path = Path("var/cloudsim")
    speed: float = 1.0
    access_keys: dict[str, str] = field(
        default_factory=lambda: {DEFAULT_ACCESS_KEY_ID: DEFAULT_ACCESS_KEY_SECRET}
    )


def parse_port(value: str, name: str) -> int:
    try:
        port = int(value)
    except ValueError:
        port = -1
    if not 0 <= port <= 65535:
        raise ConfigError(f"{name} must be a port number from 0 to 65535 (0 picks a free port)")
    return port


def parse_speed(value: str, name: str) -> float:
    try:
        speed = float(value)
    except ValueError:
        speed = -1.0
    if not 0 < speed <= 100_000:
        raise ConfigError(f"{name} must be a positive number such as 1 or 20 (sim-s per real s)")
    return speed


def parse_access_key(value: str, name: str) -> tuple[str, str]:
    key_id, sep, secret = value.strip().partition(":")
    if not sep or not key_id or not secret:
        raise ConfigError(f"{name} must look like ID:SECRET (got {value!r})")
    return key_id, secret


class _Parser(argparse.ArgumentParser):
    # argparse prints its usage and exits; we want one line naming the bad option.
    def error(self, message: str) -> None:  # type: ignore[override]
        raise ConfigError(message)


def _build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="python -m cloudsim",
        description="Emulator of the Alibaba Cloud ECS, VPC, OOS and CMS APIs for nestops.",
    )
    parser.add_argument("--host", help="address to bind (env NESTOPS_SIM_HOST, 127.0.0.1)")
    parser.add_argument("--port", help="port, 0 for a free one (env NESTOPS_SIM_PORT, 9800)")
    parser.add_argument(
        "--data-dir", help="state and host sandboxes (env NESTOPS_SIM_DATA_DIR, var/cloudsim)"
    )
    parser.add_argument("--speed", help="sim seconds per real second (env NESTOPS_SIM_SPEED, 1)")
    parser.add_argument(
        "--access-key",
        action="append",
        metavar="ID:SECRET",
        help="accepted key pair, repeatable (env NESTOPS_SIM_ACCESS_KEYS=id:secret,id2:secret2)",
    )
    return parser


def load_config(argv: list[str] | None = None, env: dict[str, str] | None = None) -> SimConfig:
    """Reads the command line, then the environment, then the defaults.

    Raises ``ConfigError`` with a one-line message for any value it cannot use.
    """
    env = dict(os.environ) if env is None else env
    args = _build_parser().parse_args(argv)

    host = args.host or env.get("NESTOPS_SIM_HOST") or "127.0.0.1"
    if args.port is not None:
        port = parse_port(args.port, "--port")
    elif env.get("NESTOPS_SIM_PORT"):
        port = parse_port(env["NESTOPS_SIM_PORT"], "NESTOPS_SIM_PORT")
    else:
        port = 9800
    # Absolute: host scripts run with their own working directory inside the sandbox.
    data_dir = Path(args.data_dir or env.get("NESTOPS_SIM_DATA_DIR") or "var/cloudsim").resolve()
    if args.speed is not None:
        speed = parse_speed(args.speed, "--speed")
    elif env.get("NESTOPS_SIM_SPEED"):
        speed = parse_speed(env["NESTOPS_SIM_SPEED"], "NESTOPS_SIM_SPEED")
    else:
        speed = 1.0

    if args.access_key:
        pairs = [parse_access_key(value, "--access-key") for value in args.access_key]
    elif env.get("NESTOPS_SIM_ACCESS_KEYS"):
        raw = env["NESTOPS_SIM_ACCESS_KEYS"]
        pairs = [
            parse_access_key(item, "NESTOPS_SIM_ACCESS_KEYS")
            for item in raw.split(",")
            if item.strip()
        ]
        if not pairs:
            raise ConfigError("NESTOPS_SIM_ACCESS_KEYS must look like id:secret,id2:secret2")
    else:
        pairs = [(DEFAULT_ACCESS_KEY_ID, DEFAULT_ACCESS_KEY_SECRET)]
    return SimConfig(host=host, port=port, data_dir=data_dir, speed=speed, access_keys=dict(pairs))

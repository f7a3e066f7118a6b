"""``python -m cloudsim``: serve the simulated cloud until SIGINT or SIGTERM.

Prints exactly one line on stdout when it is ready, ``cloudsim listening on http://HOST:PORT``;
errors in the arguments or environment are one line on stderr and exit status 2.
"""

from __future__ import annotations

import os
import signal
import sys
import threading

from cloudsim.config import ConfigError, load_config
from cloudsim.httpd import ThreadedServer
from cloudsim.server import Application
from cloudsim.simulator import Simulator, data_dir_usable


def main(argv: list[str] | None = None) -> int:
    # Hosts hold WebUI passwords and the scripts sent to them; state.json what the API saw.
    os.umask(0o077)
    try:
        config = load_config(argv)
    except ConfigError as error:
        print(f"cloudsim: {error}", file=sys.stderr)
        return 2
    problem = data_dir_usable(config.data_dir)
    if problem is not None:
        print(f"cloudsim: {problem} (set --data-dir or NESTOPS_SIM_DATA_DIR)", file=sys.stderr)
        return 2
    sim = Simulator(config)
    sim.load()
    try:
        server = ThreadedServer((config.host, config.port), Application(sim))
    except OSError as error:
        print(
            f"cloudsim: cannot listen on {config.host}:{config.port}: {error.strerror} "
            "(set --port or NESTOPS_SIM_PORT; 0 picks a free port)",
            file=sys.stderr,
        )
        return 2
    port = server.server_port
    # Scripts on the hosts and the control plane reach the WebUIs through this address.
    reachable = "127.0.0.1" if config.host in ("0.0.0.0", "", "::") else config.host
    sim.base_url = f"http://{reachable}:{port}"
    sim.start_flusher()

    stop = threading.Event()

    def request_stop(signum: int, frame: object) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    serving = threading.Thread(
        target=server.serve_forever,
        kwargs={"poll_interval": 0.2},
        name="cloudsim-http",
        daemon=True,
    )
    serving.start()
    print(f"cloudsim listening on http://{config.host}:{port}", flush=True)
    while not stop.wait(0.5):
        pass
    server.shutdown()
    server.server_close()
    sim.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())

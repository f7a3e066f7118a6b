"""A server-side WebSocket on one of cloudsim's connections, framed by the ``websockets``
library's sans-I/O protocol (the handshake and frames are not parsed here)."""

from __future__ import annotations

import json
from typing import IO, Any

from websockets.frames import Opcode
from websockets.http11 import Request
from websockets.server import ServerProtocol


class WebSocketChannel:
    """Messages over an upgraded connection: ``recv_json`` returns None once it closed."""

    def __init__(
        self, rfile: IO[bytes], wfile: IO[bytes], target: str, headers: dict[str, str]
    ) -> None:
        self.rfile = rfile
        self.wfile = wfile
        self.protocol = ServerProtocol(max_size=16 * 1024 * 1024)
        # cloudsim's server read the request head already: hand it to the protocol as the
        # bytes it came as, so its parser moves on to frames.
        head = f"GET {target} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        self.protocol.receive_data((head + "\r\n").encode("latin-1"))
        [self.request] = [e for e in self.protocol.events_received() if isinstance(e, Request)]
        self._pending: list[Any] = []

    def accept(self) -> bool:
        response = self.protocol.accept(self.request)
        self.protocol.send_response(response)
        self._flush()
        return response.status_code == 101

    def refuse(self, status: int, detail: str) -> None:
        response = self.protocol.reject(status, json.dumps({"detail": detail}))
        self.protocol.send_response(response)
        self._flush()

    def _flush(self) -> None:
        for data in self.protocol.data_to_send():
            if data:
                self.wfile.write(data)
        self.wfile.flush()

    def send_json(self, payload: Any) -> None:
        self.protocol.send_text(json.dumps(payload).encode("utf-8"))
        self._flush()

    def recv_json(self) -> Any:
        while True:
            while self._pending:
                frame = self._pending.pop(0)
                if frame.opcode is Opcode.CLOSE:
                    self._flush()
                    return None
                if frame.opcode in (Opcode.TEXT, Opcode.BINARY):
                    try:
                        return json.loads(frame.data)
                    except ValueError:
                        return {}
            read1 = getattr(self.rfile, "read1", self.rfile.read)
            data = read1(65536)
            if not data:
                self.protocol.receive_eof()
                return None
            self.protocol.receive_data(data)
            self._pending += self.protocol.events_received()
            self._flush()  # pongs and close replies

    def close(self) -> None:
        try:
            self.protocol.send_close(1000)
            self._flush()
        except Exception:  # the peer is gone already
            pass

"""Tiny PNGs with text chunks, written and read with the standard library only.

The simulated WebUI draws a 64x64 picture whose colours come from the prompt and the seed and
stores the A1111 infotext in a ``parameters`` text chunk (``tEXt`` when it is Latin-1, ``iTXt``
otherwise, like Pillow does), which ``png-info`` reads back.
"""

from __future__ import annotations

import hashlib
import struct
import zlib

SIGNATURE = b"\x89PNG\r\n\x1a\n"


class PngError(ValueError):
    """Bytes that are not a PNG this module can read."""


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _text_chunk(key: str, value: str) -> bytes:
    try:
        return _chunk(b"tEXt", key.encode("latin-1") + b"\0" + value.encode("latin-1"))
    except UnicodeEncodeError:
        # iTXt: keyword, NUL, compression flag, method, language tag NUL, translated NUL, text
        body = key.encode("latin-1") + b"\0\0\0\0\0" + value.encode("utf-8")
        return _chunk(b"iTXt", body)


def render(prompt: str, seed: int, texts: dict[str, str], size: int = 64) -> bytes:
    """A deterministic picture for (prompt, seed): a two-colour gradient with a few bands."""
    digest = hashlib.sha256(f"{seed}\0{prompt}".encode()).digest()
    first, second, third = digest[0:3], digest[3:6], digest[6:9]
    band = 4 + digest[9] % 12
    rows = bytearray()
    for y in range(size):
        rows.append(0)  # filter type None
        for x in range(size):
            share = (x + y) / (2 * size - 2)
            colour = third if ((x * digest[10] + y * digest[11]) // band) % 7 == 0 else None
            for channel in range(3):
                if colour is not None:
                    rows.append(colour[channel])
                else:
                    rows.append(int(first[channel] * (1 - share) + second[channel] * share))
    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)
    chunks = [_chunk(b"IHDR", header)]
    chunks += [_text_chunk(key, value) for key, value in texts.items()]
    chunks.append(_chunk(b"IDAT", zlib.compress(bytes(rows), 6)))
    chunks.append(_chunk(b"IEND", b""))
    return SIGNATURE + b"".join(chunks)


def read_texts(data: bytes) -> dict[str, str]:
    """The text chunks (tEXt, zTXt, iTXt) of a PNG, keyword -> text."""
    if not data.startswith(SIGNATURE):
        raise PngError("not a PNG file")
    texts: dict[str, str] = {}
    offset = len(SIGNATURE)
    while offset + 8 <= len(data):
        (length,) = struct.unpack(">I", data[offset : offset + 4])
        kind = data[offset + 4 : offset + 8]
        body = data[offset + 8 : offset + 8 + length]
        if len(body) != length:
            raise PngError("truncated chunk")
        offset += 12 + length
        try:
            if kind == b"tEXt":
                key, _, value = body.partition(b"\0")
                texts[key.decode("latin-1")] = value.decode("latin-1")
            elif kind == b"zTXt":
                key, _, rest = body.partition(b"\0")
                texts[key.decode("latin-1")] = zlib.decompress(rest[1:]).decode("latin-1")
            elif kind == b"iTXt":
                key, _, rest = body.partition(b"\0")
                compressed, rest = rest[0], rest[2:]
                _language, _, rest = rest.partition(b"\0")
                _translated, _, text = rest.partition(b"\0")
                if compressed:
                    text = zlib.decompress(text)
                texts[key.decode("latin-1")] = text.decode("utf-8")
        except (zlib.error, UnicodeDecodeError, IndexError) as error:
            raise PngError(f"unreadable {kind.decode('latin-1')} chunk: {error}") from None
        if kind == b"IEND":
            break
    return texts

"""The standard-library PNG writer/reader and the infotext parser of the simulated WebUI."""

from __future__ import annotations

import struct
import zlib

import pytest

from cloudsim import png
from cloudsim.infotext import parse_infotext


def test_a_rendered_png_is_well_formed_and_keeps_its_text():
    data = png.render("a cat", 1, {"parameters": "a cat\nSteps: 5, Seed: 1", "extra": "é"})
    assert data.startswith(png.SIGNATURE)
    width, height = struct.unpack(">II", data[16:24])
    assert (width, height) == (64, 64)
    assert png.read_texts(data) == {"parameters": "a cat\nSteps: 5, Seed: 1", "extra": "é"}


def test_non_latin_text_goes_into_an_itxt_chunk():
    data = png.render("猫", 2, {"parameters": "一只猫"})
    assert b"iTXt" in data
    assert png.read_texts(data)["parameters"] == "一只猫"


def test_compressed_text_chunks_are_read_too():
    body = b"parameters\0\0" + zlib.compress(b"zipped")
    chunk = (
        struct.pack(">I", len(body))
        + b"zTXt"
        + body
        + struct.pack(">I", zlib.crc32(b"zTXt" + body))
    )
    data = png.SIGNATURE + chunk
    assert png.read_texts(data) == {"parameters": "zipped"}


def test_garbage_is_refused():
    with pytest.raises(png.PngError):
        png.read_texts(b"GIF89a")


def test_infotext_is_parsed_like_a1111():
    text = (
        "a fox\nin snow\nNegative prompt: blurry\n"
        "Steps: 20, Sampler: Euler a, CFG scale: 7, Seed: 9, Size: 512x768"
    )
    params = parse_infotext(text)
    assert params["Prompt"] == "a fox\nin snow"
    assert params["Negative prompt"] == "blurry"
    assert (params["Steps"], params["Seed"], params["Size-1"], params["Size-2"]) == (
        "20",
        "9",
        "512",
        "768",
    )

"""What the simulated WebUI generates: txt2img settings with A1111's defaults and infotexts.

The infotext is the text A1111 stores in a PNG's ``parameters`` chunk: the prompt, an optional
``Negative prompt:`` line, then ``Steps: 20, Sampler: Euler a, ...``.
"""

from __future__ import annotations

import random
from typing import Any

VERSION = "v1.10.1-cloudsim"


def txt2img_settings(request: dict[str, Any]) -> tuple[dict[str, Any], tuple[str, str] | None]:
    """The request with A1111's defaults, or (field, problem) for the first bad field."""
    fields: dict[str, tuple[type | tuple[type, ...], Any, tuple[float, float] | None]] = {
        "prompt": (str, "", None),
        "negative_prompt": (str, "", None),
        "steps": (int, 20, (1, 150)),
        "width": (int, 512, (64, 2048)),
        "height": (int, 512, (64, 2048)),
        "seed": (int, -1, (-1, 2**32 - 1)),
        "cfg_scale": ((int, float), 7.0, (1, 30)),
        "sampler_name": (str, "Euler a", None),
        "batch_size": (int, 1, (1, 8)),
        "n_iter": (int, 1, (1, 8)),
    }
    settings: dict[str, Any] = {}
    for name, (kind, default, bounds) in fields.items():
        value = request.get(name, default)
        if value is None:
            value = default
        if isinstance(value, bool) or not isinstance(value, kind):
            return {}, (name, f"{name} has the wrong type.")
        if bounds is not None and not bounds[0] <= value <= bounds[1]:
            return {}, (name, f"{name} must be from {bounds[0]} to {bounds[1]}.")
        settings[name] = value
    if settings["seed"] == -1:
        settings["seed"] = random.randrange(0, 2**32 - 16)
    settings["cfg_scale"] = float(settings["cfg_scale"])
    return settings, None


def infotext(settings: dict[str, Any], seed: int, model: dict[str, Any] | None) -> str:
    lines = [settings["prompt"]]
    if settings["negative_prompt"]:
        lines.append(f"Negative prompt: {settings['negative_prompt']}")
    parts = [
        f"Steps: {settings['steps']}",
        f"Sampler: {settings['sampler_name']}",
        f"CFG scale: {settings['cfg_scale']:g}",
        f"Seed: {seed}",
        f"Size: {settings['width']}x{settings['height']}",
    ]
    if model is not None:
        parts += [f"Model hash: {model['hash']}", f"Model: {model['model_name']}"]
    parts.append(f"Version: {VERSION}")
    lines.append(", ".join(parts))
    return "\n".join(lines)


def parse_infotext(text: str) -> dict[str, Any]:
    """A1111's parse_generation_parameters, for the keys the simulated WebUI writes."""
    lines = text.strip().split("\n")
    params: dict[str, Any] = {}
    if not lines or not text.strip():
        return params
    settings_line = lines[-1] if len(lines) > 1 or ": " in lines[-1] else ""
    prompt_lines = lines[:-1] if settings_line else lines
    negative = [line for line in prompt_lines if line.startswith("Negative prompt: ")]
    prompt = [line for line in prompt_lines if not line.startswith("Negative prompt: ")]
    params["Prompt"] = "\n".join(prompt)
    params["Negative prompt"] = negative[0][len("Negative prompt: ") :] if negative else ""
    for part in settings_line.split(", "):
        key, sep, value = part.partition(": ")
        if not sep:
            continue
        if key == "Size" and "x" in value:
            width, _, height = value.partition("x")
            params["Size-1"], params["Size-2"] = width, height
        params[key] = value
    return params

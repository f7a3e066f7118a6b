"""A real Gradio app standing in for the WebUI in the gateway's browser tests: a prompt, a
Generate button and an image. Run with the Python of a Gradio virtualenv:
``python gradio_webui.py PORT``. Gradio 3 queues over a WebSocket, Gradio 4 over SSE."""

from __future__ import annotations

import os
import sys

import gradio as gr
from PIL import Image, ImageDraw


def generate(prompt: str) -> Image.Image:
    image = Image.new("RGB", (96, 64), (30, 120, 200))
    ImageDraw.Draw(image).text((6, 24), (prompt or "nestops")[:12], fill=(255, 255, 255))
    return image


with gr.Blocks(title="WebUI stand-in", analytics_enabled=False) as demo:
    prompt = gr.Textbox(label="Prompt", elem_id="prompt")
    button = gr.Button("Generate", elem_id="generate")
    result = gr.Image(label="Result", elem_id="result", type="pil")
    button.click(generate, inputs=prompt, outputs=result)

# Like AUTOMATIC1111's --gradio-auth: Gradio's own login form, which users must never see.
user, _sep, password = os.environ.get("GRADIO_WEBUI_AUTH", "").partition(":")
demo.queue()
demo.launch(
    server_name="127.0.0.1",
    server_port=int(sys.argv[1]),
    show_api=False,
    auth=(user, password) if password else None,
)

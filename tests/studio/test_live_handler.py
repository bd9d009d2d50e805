"""The Live tab's handler as a plain function: frames in, pictures or one-line errors out."""

from __future__ import annotations

import base64
import json

import pytest
import torch

from photogen.core.image import decode_image
from photogen.core.image import encode_jpeg as jpeg
from photogen.studio.live import LiveEngine, LiveSession
from photogen.studio.sketch import SketchEngine, find_models


@pytest.fixture(scope="module")
def session():
    return LiveSession(LiveEngine(SketchEngine(find_models([])), engine="torch"))


def message(image=None, **fields):
    image = image if image is not None else torch.rand(1, 3, 120, 160)
    body = {"id": 1, "model": "facades (bundled)", "transform": "edges",
            "jpeg": base64.b64encode(jpeg(image)).decode()}  # fmt: skip
    body.update(fields)
    return json.dumps(body)


def test_a_frame_gives_the_input_shown_and_the_output(session):
    reply = session.reply(message(), 4096 * 4096)
    assert reply["id"] == 1 and "error" not in reply, reply
    shown = decode_image(base64.b64decode(reply["input"]))
    out = decode_image(base64.b64decode(reply["output"]))
    assert shown.shape[-2:] == out.shape[-2:] == (256, 256)
    # edges: the model sees black lines on white
    assert float(shown.mean()) > 0.7
    assert reply["ms"] > 0


def test_the_same_frame_gives_the_same_picture(session):
    a = session.reply(message(torch.full((1, 3, 64, 64), 0.4), transform="blur"), 10**8)
    b = session.reply(message(torch.full((1, 3, 64, 64), 0.4), transform="blur"), 10**8)
    assert a["output"] == b["output"]  # a fixed dropout mask, no temporal blend by default


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"jpeg": "***"}, "not base64"),
        ({"jpeg": base64.b64encode(b"GIF89a....").decode()}, "camera frame"),
        ({"model": "nope"}, "unknown model"),
        ({"transform": "sepia"}, "transform must be one of"),
    ],
)
def test_bad_frames_give_one_line_errors(session, fields, expected):
    import re

    reply = session.reply(message(**fields), 10**8)
    assert re.search(expected, reply["error"]) and "\n" not in reply["error"]


def test_oversized_message_is_refused(session):
    reply = session.reply("x" * (3 * 2**20), 10**8)
    assert "too large" in reply["error"]


def test_the_output_is_the_networks_and_steady_blends_along_the_flow():
    """The reply's output is the generator's picture for the frame (not the camera frame
    sent back), and with "smooth" the second frame's output is the temporal blend of the two,
    exactly as TemporalBlend computes it; without it, the plain picture."""
    from photogen.core.samples import load_sample
    from photogen.core.temporal import TemporalBlend, flow_grey

    engine = LiveEngine(SketchEngine(find_models([])), engine="torch")
    photo = torch.nn.functional.interpolate(load_sample("astronaut"), size=(256, 256),
                                            mode="area")  # fmt: skip
    a, b = photo, torch.roll(photo, shifts=(3, 5), dims=(2, 3))
    model = "facades (bundled)"

    def sent(image, smooth, session):
        reply = session.reply(message(image, transform="blur", smooth=smooth), 10**8)
        assert "error" not in reply, reply
        return reply

    def camera(image):  # what the server decodes from the page's JPEG
        return decode_image(jpeg(image))

    plain = LiveSession(engine)
    shown_b, out_b = engine.translate(model, "blur", camera(b))
    reply = sent(b, False, plain)
    assert reply["output"] == base64.b64encode(jpeg(out_b)).decode()
    assert float((out_b - shown_b).abs().mean()) > 0.05  # not the camera frame returned
    steady = LiveSession(engine)
    sent(a, True, steady)
    reply = sent(b, True, steady)
    blend = TemporalBlend(0.6)
    shown_a, out_a = engine.translate(model, "blur", camera(a))
    blend.step(flow_grey(shown_a), out_a)
    expected = blend.step(flow_grey(shown_b), out_b)
    assert reply["output"] == base64.b64encode(jpeg(expected)).decode()
    assert reply["output"] != base64.b64encode(jpeg(out_b)).decode()  # the blend did something


@pytest.mark.parametrize("engine", ["torch", "onnxruntime"])
def test_a_style_network_as_the_live_transform(fast_style_run, engine):
    """``style:NAME``: the camera frame as it is (the transform does not apply), through the
    network compiled for the engine; the output is the network's own picture of that frame
    (to the JPEGs' loss), offered in the model list; an unknown name is one line."""
    from photogen.faststyle.train import load_model
    from photogen.pix2pix.video import model_input
    from photogen.studio.style import FastStyles

    styles = FastStyles({"tiny": str(fast_style_run)}, torch.device("cpu"))
    live = LiveEngine(SketchEngine(find_models([])), engine=engine, styles=styles)
    assert {"name": "style:tiny", "kind": "style", "label": "style: tiny"} in live.models()
    frame = torch.rand(1, 3, 8, 8, generator=torch.Generator().manual_seed(1))
    frame = torch.nn.functional.interpolate(frame, size=(120, 160), mode="bilinear")
    reply = LiveSession(live).reply(message(frame, model="style:tiny", transform="edges"), 10**8)
    assert "error" not in reply, reply
    shown = decode_image(base64.b64decode(reply["input"]))
    want_in = model_input(decode_image(jpeg(frame)), 256, "none")[0]
    assert (shown - want_in).abs().mean() < 0.02  # the frame itself, not its edges
    want = load_model(str(fast_style_run)).stylize(want_in)
    out = decode_image(base64.b64decode(reply["output"]))
    assert (out - want).abs().mean() < 0.02
    assert (out - shown).abs().mean() > 0.05  # styled, not the frame
    bad = LiveSession(live).reply(message(frame, model="style:nope"), 10**8)
    assert "unknown style network 'nope'" in bad["error"]

"""The studio server through HTTP and WebSocket (Starlette's test client, no browser)."""

from __future__ import annotations

import base64
import json

import pytest
import torch
from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from photogen.core.image import decode_image, encode_png
from photogen.studio.server import StudioConfig, create_app
from photogen.studio.sketch import SketchEngine, example_drawing, find_models

LOCAL = {"host": "localhost:7860"}


@pytest.fixture(scope="module")
def client(runs_dir):
    with TestClient(create_app(StudioConfig(models=[str(runs_dir)])), headers=LOCAL) as c:
        yield c


def _frame(i, model="tiny_facades", png=None):
    if png is None:
        png = encode_png(example_drawing(_facades()))
    return json.dumps({"id": i, "model": model, "png": base64.b64encode(png).decode()})


def _facades():
    from photogen.pix2pix.facades import PALETTE
    from photogen.studio.sketch import SketchModel

    return SketchModel("f", "", "labels", dict(PALETTE), PALETTE["wall"])


def test_page_models_and_example(client):
    page = client.get("/")
    assert page.status_code == 200 and '<canvas id="canvas"' in page.text
    assert client.get("/static/studio.js").headers["content-type"].startswith("text/javascript")
    names = [m["name"] for m in client.get("/api/sketch/models").json()]
    assert "tiny_facades" in names and "tiny_edges" in names
    example = client.get("/api/sketch/example", params={"model": "tiny_facades"})
    assert example.headers["content-type"] == "image/png"
    assert decode_image(example.content).shape == (1, 3, 256, 256)
    assert client.get("/api/sketch/example", params={"model": "nope"}).status_code == 404


@pytest.mark.parametrize("path", ["/static/../server.py", "/static/..%2Fserver.py",
                                  "/static/%2e%2e/%2e%2e/cli/main.py", "/static/index.html.bak",
                                  "/static//etc/passwd", "/file=/etc/passwd"])  # fmt: skip
def test_no_path_from_the_client_reaches_the_disk(client, path):
    r = client.get(path)
    assert r.status_code == 404 and "root:" not in r.text and "import" not in r.text


def test_foreign_host_and_origin_are_refused(client):
    assert client.get("/", headers={"host": "evil.example"}).status_code == 400
    assert client.get("/", headers={"host": "127.0.0.1:7860"}).status_code == 200
    with (
        pytest.raises(WebSocketDisconnect) as info,
        client.websocket_connect("/ws/sketch", headers={**LOCAL, "origin": "http://evil.example"}),
    ):
        pass
    assert info.value.code == 1008
    with (
        pytest.raises(WebSocketDisconnect),
        client.websocket_connect("/ws/sketch", headers={"host": "evil.example"}),
    ):
        pass


def test_sketch_socket_translates_and_survives_bad_frames(client):
    with client.websocket_connect(
        "/ws/sketch", headers={**LOCAL, "origin": "http://localhost:7860"}
    ) as ws:
        ws.send_text(_frame(1))
        reply = json.loads(ws.receive_text())
        assert reply["id"] == 1 and reply["ms"] > 0
        assert decode_image(base64.b64decode(reply["png"])).shape == (1, 3, 256, 256)
        for text in [
            _frame(2, png=encode_png(example_drawing(_facades()))[:300]),  # truncated
            _frame(3, png=b"not an image at all"),
            _frame(4, model="nope"),
            "{not json",
            json.dumps({"id": 6, "model": "tiny_facades", "png": "%%%"}),
        ]:
            ws.send_text(text)
            reply = json.loads(ws.receive_text())
            assert "error" in reply and "png" not in reply, reply
        ws.send_text(_frame(7))  # the connection still works
        assert "png" in json.loads(ws.receive_text())


def test_only_the_newest_waiting_frame_is_computed(runs_dir):
    """Frames sent while one is computed replace each other: the answers skip to the newest.
    Events, not sleeps: the first frame is held inside the network until the server has
    received all eight (a spy on the socket's receive), so the answers are exactly 1 and 8."""
    import threading

    from starlette.websockets import WebSocket

    held, release = threading.Event(), threading.Event()
    received = {"n": 0}
    all_in = threading.Event()
    real_receive = WebSocket.receive

    async def counting_receive(self):
        message = await real_receive(self)
        if message.get("type") == "websocket.receive":
            received["n"] += 1
            if received["n"] >= 8:
                all_in.set()
        return message

    class Held(SketchEngine):
        def translate_png(self, *args, **kwargs):
            if not held.is_set():
                held.set()
                assert release.wait(60)
            return super().translate_png(*args, **kwargs)

    app = create_app(StudioConfig(), engine=Held(find_models([runs_dir])))
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(WebSocket, "receive", counting_receive)
        with (
            TestClient(app, headers=LOCAL) as c,
            c.websocket_connect("/ws/sketch", headers=LOCAL) as ws,
        ):
            for i in range(1, 9):
                ws.send_text(_frame(i))
            assert held.wait(60) and all_in.wait(60)
            release.set()
            replies = [json.loads(ws.receive_text()) for _ in range(2)]
    assert [r["id"] for r in replies] == [1, 8]  # 2..7 replaced by the newest, none queued
    assert replies[-1]["dropped"] == 6


def test_basic_auth(runs_dir):
    app = create_app(StudioConfig(host="0.0.0.0", models=[str(runs_dir)], auth="ann:secret",
                                  allowed_hosts=["studio.lan"]))  # fmt: skip
    with TestClient(app, headers={"host": "studio.lan"}) as c:
        r = c.get("/")
        assert r.status_code == 401 and "Basic" in r.headers["www-authenticate"]
        assert c.get("/", auth=("ann", "wrong")).status_code == 401
        assert c.get("/", auth=("ann", "secret")).status_code == 200  # an allowed Host


def test_cli_refuses_an_open_host_without_auth(capsys):
    from photogen.cli.main import main

    with pytest.raises(SystemExit) as info:
        main(["studio", "--host", "0.0.0.0"])
    assert info.value.code == 2 and "--auth USER:PASS" in capsys.readouterr().err


def test_uploads_are_checked_like_files(client, bad_files):
    from photogen.studio.server import StudioConfig

    good = client.post("/api/upload", content=encode_png(example_drawing(_facades())[..., :100, :]))
    # a 256x100 drawing keeps its aspect ratio (it was squashed to a square)
    assert good.status_code == 200 and decode_image(good.content).shape == (1, 3, 100, 256)
    for name, expect in (("truncated.png", "truncated"), ("text.png", "not an image"),
                         ("bomb.png", "pixels"), ("empty.png", "empty")):  # fmt: skip
        r = client.post("/api/upload", content=bad_files[name].read_bytes())
        assert r.status_code == 422 and expect in r.json()["error"], (name, r.text)
    tiny = client.post("/api/upload", content=encode_png(example_drawing(_facades())[..., :1, :1]))
    assert tiny.status_code == 422 and "too small" in tiny.json()["error"]
    assert client.get("/").status_code == 200  # still serving
    assert StudioConfig().max_upload == 32 * 2**20
    assert StudioConfig(max_upload=10).max_upload == 10  # the limit itself: test_hardening


@pytest.mark.parametrize("path", ["/ws/sketch", "/ws/live"])
def test_every_socket_message_is_validated_and_the_socket_stays_open(client, path):
    """JSON that is not an object, a binary frame, a missing or non-text field: one line
    each, then a valid frame is still answered (the socket used to crash on the first)."""
    field = "png" if path == "/ws/sketch" else "jpeg"
    with client.websocket_connect(path) as ws:
        for bad, expect in (("null", "JSON object"), ("42", "JSON object"),
                            ("[1, 2, 3]", "JSON object"), ('"abc"', "JSON object"),
                            ("{", "not JSON"), ("{}", f"no '{field}' field"),
                            (json.dumps({field: 5}), f"no '{field}' field")):  # fmt: skip
            ws.send_text(bad)
            reply = ws.receive_json()
            assert expect in reply["error"] and "\n" not in reply["error"], bad
        ws.send_bytes(b"\x00\x01")
        assert "binary" in ws.receive_json()["error"]
        frame = json.loads(_frame(9))
        frame[field] = frame.pop("png")
        ws.send_text(json.dumps(frame))
        ok = ws.receive_json()
        assert ok["id"] == 9 and "error" not in ok, ok


def test_a_model_loading_for_one_visitor_does_not_hold_up_the_others(runs_dir):
    """Loading a network (seconds for a large one) runs on a worker thread: while the sketch
    tab's first frame waits for its model, the server keeps answering other requests."""
    import threading
    from concurrent.futures import ThreadPoolExecutor

    loading, release = threading.Event(), threading.Event()

    class SlowLoad(SketchEngine):
        def translator(self, name):
            if not release.is_set():
                loading.set()
                release.wait(60)
            return super().translator(name)

    app = create_app(StudioConfig(), engine=SlowLoad(find_models([runs_dir])))
    with (
        TestClient(app, headers=LOCAL) as c,
        c.websocket_connect("/ws/sketch", headers=LOCAL) as ws,
        ThreadPoolExecutor(1) as other,
    ):
        ws.send_text(_frame(1))
        assert loading.wait(60)
        answer = other.submit(c.get, "/api/sketch/models").result(timeout=60)  # not behind it
        assert answer.status_code == 200 and not release.is_set()
        release.set()
        assert json.loads(ws.receive_text())["id"] == 1


def test_the_studio_precision_reaches_every_network(fast_style_run):
    """--precision bf16: the sketch generator, the colorizer and the fast style networks run
    at bf16 (their pictures differ from fp32's, a little), results record it; the server
    takes only a resolved precision."""
    from photogen.studio.colorize import ColorizeService, find_colorizers
    from photogen.studio.sketch import SketchEngine, example_drawing, find_models
    from photogen.studio.style import FastStyles

    photo = torch.rand(1, 3, 8, 8, generator=torch.Generator().manual_seed(2))
    photo = torch.nn.functional.interpolate(photo, size=(64, 96), mode="bilinear")
    out = {}
    for precision in ("fp32", "bf16"):
        sketch = SketchEngine(find_models([]), "cpu", precision)
        model = next(iter(sketch.models.values()))
        colour = ColorizeService(find_colorizers([]), "cpu", precision)
        styles = FastStyles({"tiny": str(fast_style_run)}, torch.device("cpu"), precision)
        drawing = example_drawing(model)
        out[precision] = (sketch.translate(model.name, drawing), colour.colorize(photo, "lite"),
                          styles.stylize("tiny", photo))  # fmt: skip
    for a, b in zip(out["fp32"], out["bf16"], strict=True):
        assert not torch.equal(a, b) and (a - b).abs().mean() < 4 / 255
    state = create_app(StudioConfig(precision="bf16")).app.state  # inside the Guard
    assert state.studio.settings("style", {})["precision"] == "bf16"
    assert state.engine.precision == "bf16"
    with pytest.raises(ValueError, match="fp32 or bf16"):
        create_app(StudioConfig(precision="auto"))

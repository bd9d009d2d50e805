"""Each hardening item of the studio against the probe that used to get through (the security
history of local ML web UIs: Host/DNS rebinding, cross-site sockets, passwords in ``ps``,
unlimited guessing, framing, oversized uploads read whole before being refused)."""

from __future__ import annotations

import argparse
import asyncio

import pytest
import torch
from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from photogen.studio import guard as G
from photogen.studio.server import StudioConfig, create_app

LOCAL = {"host": "localhost:7860"}


def _auth(user_pass: str) -> dict:
    import base64

    return {"authorization": "Basic " + base64.b64encode(user_pass.encode()).decode()}


@pytest.mark.parametrize("host", ["localhost.evil.example", "evil.example", "127.0.0.1.nip.io",
                                  "localhostx", "evil.example:7860"])  # fmt: skip
def test_on_loopback_only_the_exact_local_names_are_answered(host):
    with TestClient(create_app(StudioConfig()), headers={"host": host}) as c:
        assert c.get("/").status_code == 400
    with TestClient(create_app(StudioConfig()), headers=LOCAL) as c:
        assert c.get("/").status_code == 200


def test_beyond_loopback_the_host_check_stays_on_with_an_allowed_list():
    app = create_app(StudioConfig(host="0.0.0.0", auth="ann:secret",
                                  allowed_hosts=["studio.lan"]))  # fmt: skip
    with TestClient(app, headers={"host": "studio.lan:7860", **_auth("ann:secret")}) as c:
        assert c.get("/").status_code == 200
    with TestClient(app, headers={"host": "evil.example", **_auth("ann:secret")}) as c:
        assert c.get("/").status_code == 400


@pytest.mark.parametrize("value", ["ann:", ":", ":pw", "ann", " :pw"])
def test_an_empty_user_or_password_is_refused(value):
    with pytest.raises(ValueError, match="USER:PASS"):
        G.check_auth(value)
    with pytest.raises(ValueError):
        create_app(StudioConfig(host="0.0.0.0", auth=value))


def test_the_password_can_stay_out_of_the_process_list(tmp_path, monkeypatch):
    from photogen.cli.common import UsageError
    from photogen.cli.studio import studio_auth

    args = argparse.Namespace(auth=None, auth_file=None)
    monkeypatch.setenv("PHOTOGEN_STUDIO_AUTH", "ann:from-env")
    assert studio_auth(args) == "ann:from-env"
    (tmp_path / "pw").write_text("bob:from-file\n")
    args.auth_file = str(tmp_path / "pw")
    assert studio_auth(args) == "bob:from-file"
    (tmp_path / "empty").write_text("bob:\n")
    args.auth_file = str(tmp_path / "empty")
    with pytest.raises(UsageError):
        studio_auth(args)


def test_the_websockets_need_the_password_too(runs_dir):
    app = create_app(StudioConfig(models=[str(runs_dir)], auth="ann:secret"))
    with TestClient(app, headers=LOCAL) as c:
        assert c.get("/").status_code == 401
        with pytest.raises(WebSocketDisconnect) as closed, c.websocket_connect("/ws/sketch") as ws:
            ws.send_text("null")  # without the gate an answer comes back (no hang either way)
            ws.receive_json()
        assert closed.value.code == 1008
    app = create_app(StudioConfig(models=[str(runs_dir)], auth="ann:secret"))  # a new pool
    with TestClient(app, headers={**LOCAL, **_auth("ann:secret")}) as c, \
            c.websocket_connect("/ws/sketch") as ws:  # fmt: skip
        ws.send_text("null")
        assert "JSON object" in ws.receive_json()["error"]


def test_repeated_failures_are_slowed_down_then_refused(monkeypatch):
    waits = []

    async def fake_sleep(seconds):
        waits.append(seconds)

    monkeypatch.setattr(G.asyncio, "sleep", fake_sleep)
    app = create_app(StudioConfig(auth="ann:secret"))
    with TestClient(app, headers={**LOCAL, **_auth("ann:wrong")}) as c:
        codes = [c.get("/").status_code for _ in range(3 * G.FREE_FAILURES + 1)]
    assert codes[: 3 * G.FREE_FAILURES] == [401] * (3 * G.FREE_FAILURES)
    assert codes[-1] == 429
    assert len(waits) == 2 * G.FREE_FAILURES and waits == sorted(waits) and waits[0] > 0
    with TestClient(app, headers={**LOCAL, **_auth("ann:secret")}) as c:
        assert c.get("/").status_code == 429  # the same client, locked out for a while


def test_every_response_carries_the_security_headers(runs_dir):
    with TestClient(create_app(StudioConfig(models=[str(runs_dir)])), headers=LOCAL) as c:
        for path in ("/", "/static/studio.js", "/api/samples", "/static/nope", "/api/jobs/x"):
            h = c.get(path).headers
            assert "frame-ancestors 'none'" in h["content-security-policy"], path
            assert h["x-frame-options"] == "DENY" and h["x-content-type-options"] == "nosniff"
            assert h["referrer-policy"] == "no-referrer"
    with TestClient(create_app(StudioConfig()), headers={"host": "evil.example"}) as c:
        assert "content-security-policy" in c.get("/").headers  # refusals too


def test_an_oversized_upload_is_refused_while_it_streams():
    app = create_app(StudioConfig(max_upload=100_000))
    with TestClient(app, headers=LOCAL) as c:
        c.get("/")
        declared = c.post("/api/colorize", files={"photo": ("p.png", b"\0" * 2_000_000)})
        assert declared.status_code == 413

        def chunks():
            for _ in range(400):  # 4 MB announced by no Content-Length
                yield b"\0" * 10_000

        r = c.post("/api/colorize", content=chunks(),
                   headers={"content-type": "multipart/form-data; boundary=x"})  # fmt: skip
        assert r.status_code == 413 and "larger than" in r.text  # the gate's, not a decode error


def test_the_gate_stops_reading_a_streamed_body_at_the_limit():
    """At the ASGI level (the test client reads a body whole before the app sees it): the
    chunks pulled from the client stop at the limit and the app sees a disconnect."""
    pulled, seen_by_app, sent = [], [], []

    async def app(scope, receive, send):
        while True:
            message = await receive()
            seen_by_app.append(message["type"])
            if message["type"] == "http.disconnect" or not message.get("more_body"):
                break
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    async def receive():
        pulled.append(1)
        return {"type": "http.request", "body": b"\0" * 10_000, "more_body": len(pulled) < 400}

    async def send(message):
        sent.append(message)

    gate = G.Guard(app, local_only=True, auth=None, max_body=100_000)
    scope = {"type": "http", "headers": [(b"host", b"localhost")], "client": ("127.0.0.1", 1)}
    asyncio.run(gate(scope, receive, send))
    assert len(pulled) == 11  # 110 kB read of 4 MB
    assert seen_by_app[-1] == "http.disconnect"
    assert sent[0]["status"] == 413 and len(sent) == 2  # the app's 200 never went out


def test_the_known_attacks_on_local_ml_web_uis_fail_here(runs_dir, tmp_path):
    """The classes in the security history of Gradio, ComfyUI and InvokeAI, against this
    server: another site's page queueing work (ComfyUI #4850), a file route reading what the
    client names (Gradio CVE-2023-51449, CVE-2024-1561), a route loading a file the client names
    as a model (InvokeAI CVE-2024-12029)."""
    from photogen.core.image import encode_png

    png = encode_png(torch.rand(1, 3, 32, 32))
    secret = tmp_path / "secret.pth"
    secret.write_bytes(b"not for you")
    with TestClient(create_app(StudioConfig(models=[str(runs_dir)])), headers=LOCAL) as c:
        assert c.get("/").status_code == 200
        form = {"files": {"source": ("s.png", png)}, "data": {"method": "quilting", "size": "32"}}
        for foreign in ({"origin": "http://evil.example"}, {"sec-fetch-site": "cross-site"},
                        {"origin": "http://localhost:7861"}):  # fmt: skip
            r = c.post("/api/jobs/texture", headers=foreign, **form)
            assert r.status_code == 403 and "another site" in r.text
            assert c.post("/api/upload", headers=foreign, content=png).status_code == 403
        same = c.post(
            "/api/jobs/texture",
            headers={"origin": "http://localhost:7860", "sec-fetch-site": "same-origin"},
            **form,
        )
        assert same.status_code == 200  # the page itself
        assert c.post("/api/jobs/texture", **form).status_code == 200  # a script, no Origin
        for path in (
            f"/file={secret}",
            f"/static/{secret}",
            f"/static/..%2F..%2F{secret.name}",
            f"/api/samples/..%2F{secret.stem}.png",
            f"/gradio_api/file={secret}",
        ):
            r = c.get(path)
            assert r.status_code in (400, 404) and b"not for you" not in r.content, path
        for name in (str(secret), "../../secret", "secret.pth", "https://evil.example/m.pth"):
            r = c.post("/api/jobs/weights", data={"name": name})
            assert r.status_code == 422 and "not a downloadable colorizer" in r.json()["error"]
            r = c.post("/api/colorize", files={"photo": ("p.png", png)}, data={"model": name})
            assert r.status_code == 422 and "unknown colorizer" in r.json()["error"]


def test_loopback_and_host_names_are_read_as_a_browser_sends_them():
    """The pieces the Host check stands on (mutation survivors: IPv6 brackets, ports)."""
    for host in ("127.0.0.1", "127.3.4.5", "::1", "[::1]", "localhost"):
        assert G.is_loopback(host), host
    for host in ("0.0.0.0", "192.168.1.5", "studio.lan", "[2001:db8::1]", "::"):
        assert not G.is_loopback(host), host
    assert G._host_name("localhost:7860") == "localhost"
    assert G._host_name("[::1]:7860") == "[::1]" and G._host_name("[::1]") == "[::1]"
    assert G._host_name("studio.lan") == "studio.lan"
    assert G._host_name("a.b:c:d") == "a.b:c:d"  # not a name:port


def test_a_password_may_hold_a_colon_and_a_success_clears_the_failures(monkeypatch):
    assert G.check_auth("ann:pa:ss") == "ann:pa:ss"

    async def no_sleep(seconds):
        pass

    monkeypatch.setattr(G.asyncio, "sleep", no_sleep)
    app = create_app(StudioConfig(auth="ann:pa:ss"))
    with TestClient(app, headers=LOCAL) as c:
        assert c.get("/", headers=_auth("ann:pa:ss")).status_code == 200
        assert c.get("/", headers=_auth("ann:pa")).status_code == 401
        for _ in range(3):  # failures, a success, failures: the count starts again at 0
            for _ in range(2 * G.FREE_FAILURES):
                r = c.get("/", headers=_auth("ann:wrong"))
                assert r.status_code == 401 and r.text == "authentication required"
            assert c.get("/", headers=_auth("ann:pa:ss")).status_code == 200


def test_the_refusals_say_what_was_refused():
    with TestClient(create_app(StudioConfig()), headers={"host": "evil.example"}) as c:
        assert "Host header refused" in c.get("/").text
    app = create_app(StudioConfig(host="0.0.0.0", auth="ann:secret"))
    with TestClient(app, headers={"host": "evil.example", **_auth("ann:secret")}) as c:
        assert "--allowed-host" in c.get("/").text
    with TestClient(create_app(StudioConfig()), headers=LOCAL) as c:
        r = c.post("/api/upload", headers={"origin": "http://evil.example"}, content=b"x")
        assert r.status_code == 403 and r.text == "request from another site refused"
        evil = {"origin": "http://evil.example"}
        with pytest.raises(WebSocketDisconnect), c.websocket_connect("/ws/sketch", headers=evil):
            pass

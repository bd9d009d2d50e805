"""Studio jobs through HTTP: progress, results, cancel, isolation between visitors."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import torch
from starlette.testclient import TestClient

from photogen.core.image import decode_image, encode_png
from photogen.studio.jobs import JobManager
from photogen.studio.server import StudioConfig, create_app

LOCAL = {"host": "localhost:7860"}


@pytest.fixture()
def app(runs_dir):
    return create_app(StudioConfig(models=[str(runs_dir)]))


def _visitor(app):
    c = TestClient(app, headers=LOCAL)
    assert c.get("/").status_code == 200 and "photogen_session" in c.cookies
    return c


def _wait(c, job_id, until=("done", "error", "cancelled"), timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        s = c.get(f"/api/jobs/{job_id}").json()
        if s["status"] in until:
            return s
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} still {s}")


def _png(seed=0, size=(48, 64)):
    return encode_png(torch.rand(1, 3, *size, generator=torch.Generator().manual_seed(seed)))


def test_texture_job_runs_reports_and_returns_full_resolution(app):
    c = _visitor(app)
    r = c.post("/api/jobs/texture", files={"source": ("s.png", _png())},
               data={"method": "heeger-bergen", "size": "40"})  # fmt: skip
    assert r.status_code == 200, r.text
    s = _wait(c, r.json()["id"])
    assert s["status"] == "done" and s["done"] == s["total"] and s["seconds"] >= 0
    result = decode_image(c.get(f"/api/jobs/{s['id']}/result.png").content)
    assert result.shape == (1, 3, 40, 40)
    assert c.get(f"/api/jobs/{s['id']}/preview.png").status_code == 200


def test_style_job_shows_progress_and_loss(app):
    c = _visitor(app)
    files = {"content": ("c.png", _png(1)), "style": ("s.png", _png(2))}
    r = c.post("/api/jobs/style", files=files, data={"size": "32", "steps": "6"})
    s = _wait(c, r.json()["id"])
    assert s["status"] == "done" and s["loss"] is not None and s["total"] >= 6


def test_jobs_belong_to_their_visitor(app):
    a, b = _visitor(app), _visitor(app)
    assert a.cookies["photogen_session"] != b.cookies["photogen_session"]
    job = a.post("/api/jobs/texture", files={"source": ("s.png", _png())},
                 data={"method": "quilting", "size": "32"}).json()  # fmt: skip
    _wait(a, job["id"])
    for path in ("", "/result.png", "/preview.png"):
        assert b.get(f"/api/jobs/{job['id']}{path}").status_code == 404
    assert b.post(f"/api/jobs/{job['id']}/cancel").status_code == 404
    stranger = TestClient(app, headers=LOCAL)  # no page loaded, no session
    assert stranger.get(f"/api/jobs/{job['id']}").status_code == 401


def test_bad_job_requests_are_one_line_errors(app, bad_files):
    c = _visitor(app)
    cases = [
        ({"source": ("t.png", bad_files["truncated.png"].read_bytes())}, {}, "truncated"),
        ({"source": ("s.png", _png())}, {"method": "nope"}, "unknown method"),
        ({"source": ("s.png", _png())}, {"method": "quilting", "tileable": "true"}, "tileable"),
        ({"source": ("s.png", _png())}, {"size": "5000"}, "size must be"),
        (
            {"source": ("s.png", _png()), "mask": ("m.png", _png(size=(10, 10)))},
            {"method": "efros-leung"},
            "the mask is 10x10",
        ),  # fmt: skip
    ]
    for files, data, expect in cases:
        r = c.post("/api/jobs/texture", files=files, data=data)
        assert r.status_code == 422 and expect in r.json()["error"], (expect, r.text)


def test_cancel_stops_the_computation_itself(app):
    """A long Gatys texture, cancelled after a few evaluations, ends within 2 s; the worker is
    free again: the next job runs at once."""
    c = _visitor(app)
    job = c.post("/api/jobs/texture", files={"source": ("s.png", _png())},
                 data={"method": "gatys", "size": "64", "steps": "2000"}).json()  # fmt: skip
    _wait(c, job["id"], until=("running",))
    while c.get(f"/api/jobs/{job['id']}").json()["done"] < 3:
        time.sleep(0.02)
    t0 = time.time()
    c.post(f"/api/jobs/{job['id']}/cancel")
    s = _wait(c, job["id"], timeout=10)
    assert s["status"] == "cancelled" and time.time() - t0 < 2.0 and s["done"] < 200
    nxt = c.post("/api/jobs/texture", files={"source": ("s.png", _png())},
                 data={"method": "quilting", "size": "32"}).json()  # fmt: skip
    assert _wait(c, nxt["id"], timeout=10)["status"] == "done"


def test_job_manager_one_at_a_time_old_results_dropped_idle_visitors_forgotten():
    """Events, not sleeps: a job held at its first step keeps the next one queued; finished
    jobs beyond ``per_session`` are forgotten oldest first; a visitor idle past the ttl (a
    clock the test moves) is forgotten and their running job cancelled."""
    import threading

    now = [1000.0]
    pool = ThreadPoolExecutor(1)
    jobs = JobManager(pool, ttl=60, per_session=2, clock=lambda: now[0])
    token = jobs.new_session()
    started, release = threading.Event(), threading.Event()

    def held(report):
        report(0, 1)
        started.set()
        assert release.wait(30)
        report(1, 1)
        return torch.zeros(1, 3, 2, 2)

    def quick(report):
        return torch.ones(1, 3, 2, 2)

    def drained():  # the pool has one worker: a task queued last runs after the others
        pool.submit(lambda: None).result(timeout=30)

    first = jobs.submit(token, "t", held)
    assert started.wait(30)
    second = jobs.submit(token, "t", quick)
    assert first.status == "running" and second.status == "queued" and second.position == 1
    release.set()
    drained()
    assert first.status == second.status == "done"
    third = jobs.submit(token, "t", quick)
    drained()
    assert jobs.get(token, first.id) is None  # the oldest finished one is dropped
    assert jobs.get(token, second.id) is second and jobs.get(token, third.id) is third
    started.clear(), release.clear()
    fourth = jobs.submit(token, "t", held)
    assert started.wait(30)
    now[0] += 59
    assert jobs.known(token)  # within the ttl (and the visit renews it)
    now[0] += 61
    other = jobs.new_session()
    assert not jobs.known(token) and jobs.known(other)  # idle past the ttl: forgotten
    assert fourth.cancel.is_set()
    release.set()
    drained()
    assert fourth.status == "cancelled"
    pool.shutdown(wait=True)


def test_playground_trains_and_redraws(app):
    """The MLP playground as a job: regions redrawn while it trains, the loss curve falls, and
    a 2-layer tanh network separates the circle data."""
    c = _visitor(app)
    form = {"dataset": "circle", "noise": "0.05", "hidden": "6,6", "lr": "0.1", "epochs": "150"}
    job = c.post("/api/jobs/playground", data=form).json()
    s = _wait(c, job["id"])
    assert s["status"] == "done" and s["preview"] >= 1
    curve = s["curve"]
    assert len(curve["train"]) == 150 and curve["train"][-1] < 0.5 * curve["train"][0]
    assert curve["test_accuracy"] > 0.9
    assert decode_image(c.get(f"/api/jobs/{s['id']}/result.png").content).shape == (1, 3, 240, 240)
    assert s["size"] == [240, 240]  # the page's download link says the size it gives
    bad = c.post("/api/jobs/playground", data={"hidden": "4,x"})
    assert bad.status_code == 422 and "hidden layers" in bad.json()["error"]


def test_matching_votes_and_colours_from_siblings(tiny_db):
    db_path, photos = tiny_db
    app = create_app(StudioConfig(db=str(db_path)))
    c = _visitor(app)
    assert c.get("/api/match/info").json() == {"available": True, "images": 48, "labels": 2}
    query = photos / "blues" / "03.png"
    r = c.post("/api/match", files={"photo": ("q.png", query.read_bytes())}, data={"k": "5"})
    res = r.json()
    assert r.status_code == 200, res
    assert res["vote"]["label"] == "blues" and res["neighbours"][0]["distance"] < 1e-3
    assert str(photos) not in r.text and str(db_path) not in r.text  # no server paths
    from photogen.core.color import rgb_to_lab

    coloured = rgb_to_lab(decode_image(__import__("base64").b64decode(res["colourised"])))
    original = rgb_to_lab(decode_image(query.read_bytes()))
    assert (coloured[:, 0] - original[:, 0]).abs().mean() < 1.0  # the photo's lightness
    one = c.post("/api/match", files={"photo": ("q.png", query.read_bytes())}, data={"k": "1"})
    own = rgb_to_lab(decode_image(__import__("base64").b64decode(one.json()["colourised"])))
    # k = 1: the nearest grey sibling is the photo itself, so its own colours come back
    assert float(own[:, 2].mean()) < 0.5 * float(original[:, 2].mean()) < 0
    plain = _visitor(create_app(StudioConfig()))
    assert plain.get("/api/match/info").json() == {"available": False}
    assert (
        plain.post("/api/match", files={"photo": ("q.png", query.read_bytes())}).status_code == 404
    )


def test_matching_across_a_dask_cluster_answers_as_here_and_marks_a_lost_part(tiny_db):
    """--db-scheduler local: the same neighbours as the search here; with a worker gone, the
    other part's neighbours come back marked partial (never as if they were everything)."""
    import os
    import threading

    pytest.importorskip("dask.distributed")
    db_path, photos = tiny_db
    query = {"photo": ("q.png", (photos / "blues" / "03.png").read_bytes())}
    here = _visitor(create_app(StudioConfig(db=str(db_path)))).post(
        "/api/match", files=query, data={"k": "6"}).json()  # fmt: skip
    app = create_app(StudioConfig(db=str(db_path), db_scheduler="local"))
    with _visitor(app) as c:
        there = c.post("/api/match", files=query, data={"k": "6"}).json()
        assert there["partial"] == [] and there["neighbours"] == here["neighbours"]
        assert there["colourised"] == here["colourised"]
        matcher = app.app.state.matcher
        victim = matcher._sharded[True].workers[1]
        with pytest.raises(Exception):  # noqa: B017 - the worker dies under the call
            matcher._client.run(os._exit, 1, workers=[victim])
        news = threading.Event()  # never set: polls the scheduler's list, 30 s at most
        for _ in range(600):
            if victim not in matcher._client.scheduler_info()["workers"]:
                break
            news.wait(0.05)
        lost = c.post("/api/match", files=query, data={"k": "6"}).json()
        assert lost["partial"] == [[24, 48]]  # the second half of the 48 images
        assert lost["neighbours"][0] == here["neighbours"][0]  # the photo itself: first half


def test_pixelcnn_completion_keeps_the_visible_pixels(pixelcnn_run):
    app = create_app(StudioConfig(pixelcnn=[str(pixelcnn_run.parent)]))
    c = _visitor(app)
    names = [m["name"] for m in c.get("/api/pixelcnn/models").json()]
    assert names[-1] == "tiny_pixelcnn"  # after the bundled demo model, when it is there
    form = {"model": "tiny_pixelcnn", "box": "4,6,8,5", "n": "3", "size": "24"}
    job = c.post("/api/jobs/pixelcnn", files={"image": ("i.png", _png(3, (24, 24)))}, data=form)
    s = _wait(c, job.json()["id"])
    assert s["status"] == "done" and s["total"] == 24
    panel = decode_image(c.get(f"/api/jobs/{s['id']}/result.png").content)[0, 0]
    tiles = [panel[:, i * 26 : i * 26 + 24] for i in range(5)]  # sample_grid: 2-px white gaps
    original = tiles[1]
    hidden = torch.zeros(24, 24, dtype=torch.bool)
    hidden[6:11, 4:12] = True
    for completion in tiles[2:]:
        assert torch.equal(completion[~hidden], original[~hidden])  # visible pixels kept
    assert any(not torch.equal(t[hidden], original[hidden]) for t in tiles[2:])
    for box, expect in (("20,20,10,10", "does not fit"), ("1,2,3", "expected x,y,w,h")):
        r = c.post("/api/jobs/pixelcnn", files={"image": ("i.png", _png(3, (24, 24)))},
                   data={**form, "box": box})  # fmt: skip
        assert r.status_code == 422 and expect in r.json()["error"]
    r = c.post(
        "/api/jobs/pixelcnn", files={"image": ("i.png", _png())}, data={**form, "model": "x"}
    )
    assert r.status_code == 404


def test_colorize_full_resolution_temperature_and_hints(tmp_path):
    """lite: the photo's own lightness at full size, a lower temperature is more colourful;
    every model takes hints (propagated into their region); a siggraph17-type network (random
    weights here) also takes them in its own input."""
    from photogen.colorize.models import SIGGRAPH17
    from photogen.core.color import lab_to_rgb, rgb_to_lab

    net = SIGGRAPH17()
    g = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for p in net.parameters():
            p.copy_(torch.randn(p.shape, generator=g) * 0.05)
    torch.save(net.state_dict(), tmp_path / "sig.pth")
    app = create_app(StudioConfig(colorizers=[str(tmp_path / "sig.pth")]))
    c = _visitor(app)
    described = {m["name"]: m for m in c.get("/api/colorize/models").json()}
    assert described["lite"]["hints"] and not described["lite"]["network_hints"]
    assert described["sig"]["network_hints"]
    assert not described["siggraph17"]["installed"] and described["siggraph17"]["download_mb"]
    photo = _png(5, (72, 100))
    out = {}
    for t in ("0.1", "1.0"):
        r = c.post("/api/colorize", files={"photo": ("p.png", photo)}, data={"temperature": t})
        assert r.status_code == 200, r.text
        out[t] = rgb_to_lab(decode_image(r.content))
    original = rgb_to_lab(decode_image(photo))
    assert out["0.1"].shape == original.shape
    assert (out["0.1"][:, 0] - original[:, 0]).abs().mean() < 1.0  # its own lightness
    chroma = {t: float(v[:, 1:].norm(dim=1).mean()) for t, v in out.items()}
    assert chroma["0.1"] > chroma["1.0"]  # annealed mean: towards the mode is more colourful
    # two colours at spots that are not mirror images: x/y swapped, the Lab channels shifted
    # or a colour dropped each put a wrong colour at one of them
    hint = '[[0.25, 0.75, "#ff0000"]]'
    two = '[[0.25, 0.75, "#ff0000"], [0.85, 0.2, "#0040ff"]]'
    plain_lite = decode_image(c.post("/api/colorize", files={"photo": ("p.png", photo)}).content)
    r = c.post("/api/colorize", files={"photo": ("p.png", photo)}, data={"hints": two})
    assert r.status_code == 200
    lab = rgb_to_lab(decode_image(r.content))
    for (y, x), rgb in (((54, 25), (1.0, 0, 0)), ((14, 85), (0, 0.25, 1.0))):  # (0.75h, 0.25w)...
        got = lab[:, :, y : y + 1, x : x + 1]
        # the asked ab at the photo's own lightness, as the sRGB gamut lets it be shown
        asked = rgb_to_lab(torch.tensor(rgb).view(1, 3, 1, 1))[:, 1:]
        shown = rgb_to_lab(lab_to_rgb(torch.cat([got[:, :1], asked], 1)))
        assert float((got[0, 1:, 0, 0] - shown[0, 1:, 0, 0]).norm()) < 20, (y, x)
    r = c.post("/api/colorize", files={"photo": ("p.png", photo)}, data={"hints": hint})
    far = (rgb_to_lab(decode_image(r.content)) - rgb_to_lab(plain_lite))[0, 1:, :15, 80:]
    assert float(far.norm(dim=0).mean()) < 3
    plain = c.post("/api/colorize", files={"photo": ("p.png", photo)}, data={"model": "sig"})
    hinted = c.post("/api/colorize", files={"photo": ("p.png", photo)},
                    data={"model": "sig", "hints": hint})  # fmt: skip
    assert hinted.status_code == 200
    assert (
        decode_image(plain.content) - decode_image(hinted.content)
    ).abs().max() > 0  # reached it
    bad = c.post("/api/colorize", files={"photo": ("p.png", photo)},
                 data={"model": "sig", "hints": '[[2, 0.5, "#ff0000"]]'})  # fmt: skip
    assert bad.status_code == 422 and "outside the photo" in bad.json()["error"]


def test_the_official_colorizers_are_offered_and_downloaded_as_a_job(tmp_path, monkeypatch,
                                                                       http_file):  # fmt: skip
    """Not installed -> offered with a size; the download job reports bytes, checks the
    sha256, and the model is then installed; offline -> the job ends with one line."""
    import socket

    import photogen.colorize.models  # noqa: F401
    from photogen.core import weights as W

    monkeypatch.setenv("PHOTOGEN_HOME", str(tmp_path / "home"))
    url, digest, size = http_file
    monkeypatch.setitem(W.REGISTRY, "eccv16", W.WeightsEntry("eccv16", "e.pth", url, digest))
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{s.getsockname()[1]}/s.pth"
    monkeypatch.setitem(W.REGISTRY, "siggraph17",
                        W.WeightsEntry("siggraph17", "s.pth", closed, "ab" * 4))  # fmt: skip
    c = _visitor(create_app(StudioConfig()))
    offered = {m["name"]: m for m in c.get("/api/colorize/models").json()}
    assert not offered["eccv16"]["installed"] and offered["eccv16"]["download_mb"] > 100
    job = c.post("/api/jobs/weights", data={"name": "eccv16"}).json()
    status = _wait(c, job["id"])
    assert status["status"] == "done" and status["done"] == status["total"] == size
    assert W.sha256_file(W.cache_path(W.REGISTRY["eccv16"])) == digest
    offered = {m["name"]: m for m in c.get("/api/colorize/models").json()}
    assert offered["eccv16"]["installed"] and offered["eccv16"]["default"]
    failed = _wait(c, c.post("/api/jobs/weights", data={"name": "siggraph17"}).json()["id"])
    assert failed["status"] == "error" and "cannot download s.pth" in failed["error"]
    assert "\n" not in failed["error"]
    r = c.post("/api/jobs/weights", data={"name": "../../etc/passwd"})
    assert r.status_code == 422


def test_a_visitor_may_have_one_running_and_two_waiting_jobs():
    """The fourth job is refused with one line; the waiting ones show their place in the
    queue; another visitor is not counted against the first (the old code took 20 of 20)."""
    import threading

    from photogen.studio.jobs import JobLimitError, JobManager

    pool = ThreadPoolExecutor(1)
    release = threading.Event()
    jobs = JobManager(pool)
    a, b = jobs.new_session(), jobs.new_session()

    def blocking(report):
        release.wait(30)
        report(1, 1)
        return torch.zeros(1, 3, 2, 2)

    first = [jobs.submit(a, "style", blocking) for _ in range(3)]
    with pytest.raises(JobLimitError, match="at most 3"):
        jobs.submit(a, "style", blocking)
    assert [j.public()["position"] for j in first[1:]] == [1, 2]
    other = jobs.submit(b, "style", blocking)
    assert other.public()["position"] == 3
    release.set()
    for j in [*first, other]:
        _wait_job(j)
    assert jobs.submit(a, "style", blocking).id  # room again once they finished
    pool.shutdown(wait=True)


def _wait_job(job, timeout=30):
    import time

    end = time.monotonic() + timeout
    while job.status in ("queued", "running") and time.monotonic() < end:
        time.sleep(0.01)
    assert job.status == "done", job.status


def test_a_job_waits_at_its_next_step_while_interactive_work_runs():
    """Events, no sleeps: the interactive work lasts until the job has come to its gate; the
    job records every step begun while interactive work was pending that got through. With
    the lane ignored the gate is never reached and steps get through."""
    import threading

    from photogen.studio.jobs import InteractiveLane, JobManager

    lane = InteractiveLane(1)
    pool = ThreadPoolExecutor(1)
    jobs = JobManager(pool, lane=lane, max_yield=30)
    going = threading.Event()
    through_while_busy = []

    stop, gate_reached = threading.Event(), threading.Event()
    real_wait = lane.wait_idle

    def spy(timeout):  # the job came to its gate while interactive work was pending
        gate_reached.set()
        return real_wait(timeout)

    lane.wait_idle = spy

    def job(report):
        i = 0
        while not stop.is_set():
            going.set()
            busy_before = lane.busy
            report(i, 10**9)
            if busy_before and lane.busy:  # a step begun while a frame waited got through
                through_while_busy.append(i)
            if gate_reached.is_set() and not lane.busy:
                break  # one step after the interactive work ended
            i += 1
        return torch.zeros(1, 3, 2, 2)

    j = jobs.submit(jobs.new_session(), "style", job)
    try:
        assert going.wait(30)
        answer = lane.submit(lambda: gate_reached.wait(10))  # until the job waits for it
        assert answer.result(timeout=60) is True
        _wait_job(j)
    finally:
        stop.set()
    assert through_while_busy == []  # no step ran while a frame was waiting or computing
    pool.shutdown(wait=True)
    lane.shutdown(wait=True)


@pytest.mark.parametrize("method", ["quilting", "efros-leung", "heeger-bergen"])
def test_the_classical_textures_work_on_a_large_upload_at_a_stated_size(method, monkeypatch):
    """A 1365x1074 upload: the classical methods see it at most 256 px long (they compare every
    window: the full photo took 3.5 GiB for 48 px and gave texture elements larger than the
    output), and the result keeps the photo's brightness (it came out near black)."""
    from photogen.classic import efros_leung, heeger_bergen, quilting
    from photogen.core.samples import load_sample
    from photogen.studio import texture as methods

    src = torch.nn.functional.interpolate(load_sample("chelsea"), size=(1074, 1365),
                                          mode="bilinear").clamp(0, 1)  # fmt: skip
    seen = []
    module = {"quilting": quilting, "efros-leung": efros_leung, "heeger-bergen": heeger_bergen}
    name = {"quilting": "quilt"}.get(method, "synthesize")
    real = getattr(module[method], name)

    def spy(source, *args, **kwargs):
        seen.append(tuple(source.shape[-2:]))
        return real(source, *args, **kwargs)

    monkeypatch.setattr(module[method], name, spy)
    out = methods.texture_job(src, method, 24 if method == "efros-leung" else 64)(
        lambda *a, **k: None
    )
    assert max(seen[0]) == methods.CLASSIC_SIDE
    assert abs(float(out.mean()) - float(src.mean())) < 0.15


def test_a_result_carries_its_settings_and_they_make_it_again(app):
    """The result PNG records the tab, the form, the inputs' sha256 and the device; the same
    pictures with the settings read back from it give the same PNG, bit for bit; the history
    lists the visitor's results; a CLI picture is pointed to ``photogen rerun``."""
    import hashlib

    from photogen.core.provenance import read_settings

    c = _visitor(app)
    content, style = _png(1), _png(2, (40, 40))
    files = {"content": ("c.png", content), "style": ("s.png", style)}
    form = {"size": "32", "steps": "5", "seed": "3", "preserve_colors": "true"}
    first = _wait(c, c.post("/api/jobs/style", files=files, data=form).json()["id"])
    png = c.get(f"/api/jobs/{first['id']}/result.png").content
    made = read_settings(png)
    assert made["studio"] == {
        "tab": "style",
        "fields": {"size": 32, "steps": 5, "seed": 3, "preserve_colors": True},
        "inputs": {"content": hashlib.sha256(content).hexdigest(),
                   "style": hashlib.sha256(style).hexdigest()},
    }  # fmt: skip
    assert made["device"] == "cpu" and made["threads"] == torch.get_num_threads()
    loaded = c.post("/api/settings", content=png).json()
    assert loaded["tab"] == "style" and loaded["fields"]["steps"] == 5
    again = {k: str(v).lower() if isinstance(v, bool) else str(v)
             for k, v in loaded["fields"].items()}  # fmt: skip
    second = _wait(c, c.post("/api/jobs/style", files=files, data=again).json()["id"])
    assert c.get(f"/api/jobs/{second['id']}/result.png").content == png
    assert [j["id"] for j in c.get("/api/jobs").json()] == [first["id"], second["id"]]
    assert _visitor(app).get("/api/jobs").json() == []  # another visitor sees none of them
    cli = encode_png(
        torch.zeros(1, 3, 8, 8), settings={"argv": ["texture", "a.png", "-o", "x.png"]}
    )
    r = c.post("/api/settings", content=cli)
    assert r.status_code == 422 and "photogen rerun" in r.json()["error"]
    for junk in (b"not a picture", encode_png(torch.zeros(1, 3, 8, 8))):
        r = c.post("/api/settings", content=junk)
        assert r.status_code == 422 and r.json()["error"]


def test_queue_eta_counts_the_workers_and_the_jobs_ahead():
    from photogen.studio.jobs import queue_eta

    # one worker busy 10 s more: the queued jobs follow it one after the other
    assert queue_eta([10.0], [20.0, 30.0], workers=1) == [(10.0, 30.0), (30.0, 60.0)]
    # two workers, one idle: the first queued job starts now, the next when the 10 s one ends
    assert queue_eta([10.0], [20.0, 5.0, 7.0], workers=2) == [
        (0.0, 20.0), (10.0, 15.0), (15.0, 22.0)]  # fmt: skip
    # a running job's end unknown (before its first step): so is every start behind it
    assert queue_eta([None], [20.0], workers=1) == [(None, None)]
    # a job of a kind never timed: its own end unknown, and that worker's next start with it
    assert queue_eta([], [None, 5.0], workers=1) == [(0.0, None), (None, None)]
    assert queue_eta([], [None, 5.0], workers=2) == [(0.0, None), (0.0, 5.0)]


def test_a_queued_job_shows_when_it_starts_and_ends():
    """Events, not sleeps: the running job stops after step 2 of 8; at one instant the queued
    job of the same kind starts when the running one's 6 steps left are done and takes its
    projected 8 steps; once a job finished, its duration is what the next one expects."""
    import threading

    from photogen.studio.jobs import JobManager

    pool = ThreadPoolExecutor(1)
    stepped, release = threading.Event(), threading.Event()
    jobs = JobManager(pool)
    session = jobs.new_session()

    def eight_steps(report):
        report(2, 8)
        stepped.set()
        release.wait(30)
        for i in range(3, 9):
            report(i, 8)
        return torch.zeros(1, 3, 2, 2)

    running = jobs.submit(session, "style", eight_steps)
    queued = jobs.submit(session, "style", eight_steps)
    assert stepped.wait(30)
    now = running.started + 2.5  # 1.25 s a step so far, 2 of 8 steps done
    mine = jobs.public(running, now=now)
    assert mine["starts"] is None and mine["eta"] == 7.5  # 6 steps left
    shown = jobs.public(queued, now=now)
    assert shown["position"] == 1
    assert shown["starts"] == 7.5 and shown["eta"] == 17.5  # then its projected 10 s
    other = jobs.submit(session, "texture", eight_steps)  # no texture job timed yet
    assert jobs.public(other, now=now)["eta"] is None
    assert jobs.public(other, now=now)["starts"] == 17.5
    release.set()
    for j in (running, queued, other):
        _wait_job(j)
    took = queued.finished - queued.started
    assert jobs.expected("style", 0.0) == pytest.approx((running.finished - running.started
                                                          + took) / 2)  # fmt: skip
    pool.shutdown(wait=True)


def test_a_dream_job_is_the_library_s_dream_with_the_page_s_settings(app):
    """The Dream tab's job: the photo shrunk to the size asked, the layer, octaves, steps,
    seed and guide passed through (the result equals photogen.dream's own to 1e-5; a layer,
    the seed or the guide ignored each gives another picture); progress and a preview while
    it runs; an unknown layer is one line."""
    from photogen.core.resample import resize
    from photogen.dream.dream import DreamConfig, dream
    from photogen.nets.features import FeatureExtractor, build_network

    c = _visitor(app)
    photo, guide = _png(4, (60, 80)), _png(5, (40, 40))
    form = {"layer": "block6", "size": "64", "octaves": "2", "steps": "3", "seed": "7"}
    files = {"photo": ("p.png", photo), "guide": ("g.png", guide)}
    s = _wait(c, c.post("/api/jobs/dream", files=files, data=form).json()["id"])
    assert s["status"] == "done" and s["done"] == s["total"] == 6, s
    assert s["settings"]["fields"]["layer"] == "block6"
    got = decode_image(c.get(f"/api/jobs/{s['id']}/result.png").content)
    assert got.shape == (1, 3, 48, 64)
    net = FeatureExtractor(build_network("efficientnet_lite0"), ["block6"])
    want = dream(resize(decode_image(photo), (48, 64)),
                 DreamConfig(layer="block6", octaves=2, steps=3, seed=7), net,
                 guide=decode_image(guide)).image  # fmt: skip
    assert (got - want).abs().max() < 1.5 / 255  # the PNG's 8 bits
    plain = dream(resize(decode_image(photo), (48, 64)),
                  DreamConfig(layer="block6", octaves=2, steps=3, seed=7), net).image  # fmt: skip
    assert (plain - want).abs().max() > 4 / 255  # the guide matters at this size
    r = c.post("/api/jobs/dream", files={"photo": ("p.png", photo)}, data={"layer": "nope"})
    assert r.status_code == 422 and "unknown layer 'nope'" in r.json()["error"]
    layers = c.get("/api/dream/layers").json()
    assert layers["default"] == DreamConfig().layer and "block6" in layers["layers"]


def test_the_studio_wide_cap_and_failed_jobs_dropped_like_finished_ones():
    """Events, not sleeps: with a cap of 3 jobs in the studio, a third visitor's fourth job
    is refused although each visitor is within their own limit; a failed and a cancelled job
    count as finished (dropped oldest first beyond ``per_session``, not held as active)."""
    import threading

    from photogen.studio.jobs import JobLimitError

    pool = ThreadPoolExecutor(1)
    release = threading.Event()
    jobs = JobManager(pool, per_session=2, capacity=3)
    a, b, c = jobs.new_session(), jobs.new_session(), jobs.new_session()

    def held(report):
        assert release.wait(30)
        return torch.zeros(1, 3, 2, 2)

    held_jobs = [jobs.submit(a, "t", held), jobs.submit(a, "t", held), jobs.submit(b, "t", held)]
    with pytest.raises(JobLimitError, match="the studio is busy"):
        jobs.submit(c, "t", held)
    release.set()
    for j in held_jobs:
        _wait_job(j)

    def broken(report):
        raise RuntimeError("out of paint")

    failed = jobs.submit(c, "t", broken)
    cancelled = jobs.submit(c, "t", held)
    cancelled.cancel.set()
    pool.submit(lambda: None).result(timeout=30)  # one worker: both have run
    assert failed.status == "error" and failed.error == "out of paint"
    assert cancelled.status == "cancelled"
    newest = jobs.submit(c, "t", held)  # 2 kept: the failed one (oldest) goes
    pool.submit(lambda: None).result(timeout=30)
    assert jobs.get(c, failed.id) is None and jobs.get(c, cancelled.id) is cancelled
    assert jobs.get(c, newest.id) is newest
    pool.shutdown(wait=True)

"""The studio's two lanes: sketch frames while a style job runs, against one shared lane.

One client draws (256x256 facades frames over the sketch WebSocket, the next frame sent when
the answer arrives) while idle, then while a 384 px style job (Gatys, EfficientNet-Lite0)
runs for the same visitor; p50/p95 latency each time, and how far the job got. The same run
with ``two_lanes=False`` (frames queued behind the job, as the studio was) is the reference in
the same process. Target (issue 23): p95 <= 250 ms during the job, the job still progressing.

    python benchmarks/studio_lanes.py [--frames 40] [--steps 60]
"""

from __future__ import annotations

import argparse
import base64
import io
import json
import statistics
import sys
import threading
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).parent))
from _common import print_peak  # noqa: E402


def run(two_lanes: bool, frames: int, steps: int) -> dict:
    import httpx
    import uvicorn
    from websockets.sync.client import connect

    from photogen.cli.studio import free_port
    from photogen.core.image import encode_png
    from photogen.core.samples import load_sample
    from photogen.pix2pix.facades import PALETTE
    from photogen.studio.server import StudioConfig, create_app
    from photogen.studio.sketch import SketchEngine, example_drawing, find_models

    models = find_models([])
    model = models[0]
    engine = SketchEngine(models)
    drawing = example_drawing(model)
    port = free_port()
    app = create_app(StudioConfig(two_lanes=two_lanes), engine=engine)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    base = f"http://localhost:{port}"
    http = httpx.Client(base_url=base, headers={"host": f"localhost:{port}"}, timeout=600)
    http.get("/")

    def draw(n: int) -> list[float]:
        out = []
        with connect(f"ws://localhost:{port}/ws/sketch", max_size=2**24) as ws:
            for i in range(n):
                d = drawing.clone()
                y = (7 * i) % 240
                d[..., y : y + 12, 20:60] = torch.tensor(PALETTE["window"]).view(1, 3, 1, 1)
                msg = json.dumps({"id": i, "model": model.name,
                                  "png": base64.b64encode(encode_png(d)).decode()})  # fmt: skip
                t0 = time.perf_counter()
                ws.send(msg)
                json.loads(ws.recv(timeout=600))
                out.append((time.perf_counter() - t0) * 1000)
        return out

    draw(3)  # warm
    idle = draw(frames)

    def png(img) -> bytes:
        return encode_png(img)

    content = load_sample("chelsea")
    style = load_sample("starry_night")
    job = http.post("/api/jobs/style", files={"content": ("c.png", io.BytesIO(png(content))),
                                              "style": ("s.png", io.BytesIO(png(style)))},
                    data={"size": 384, "steps": steps}).json()  # fmt: skip
    while http.get(f"/api/jobs/{job['id']}").json()["status"] == "queued":
        time.sleep(0.05)
    before = http.get(f"/api/jobs/{job['id']}").json()["done"]
    t0 = time.perf_counter()
    busy = draw(frames)
    seconds = time.perf_counter() - t0
    after = http.get(f"/api/jobs/{job['id']}").json()
    http.post(f"/api/jobs/{job['id']}/cancel")
    server.should_exit = True

    def p(xs, q):
        return statistics.quantiles(xs, n=20)[18] if q == 95 else statistics.median(xs)

    return {"idle": (p(idle, 50), p(idle, 95)), "busy": (p(busy, 50), p(busy, 95), max(busy)),
            "job_steps": after["done"] - before, "seconds": seconds,
            "job_status": after["status"]}  # fmt: skip


def main() -> None:
    from photogen.core.device import cpu_flags

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=40)
    ap.add_argument("--steps", type=int, default=300)
    args = ap.parse_args()
    torch.set_num_threads(2)
    print(f"CPU flags: {cpu_flags()}; torch threads {torch.get_num_threads()}")
    # latency, not arithmetic: the generator's share of peak is in benchmarks/studio.py
    print_peak()
    res = {lanes: run(lanes, args.frames, args.steps) for lanes in (True, False)}
    for lanes, r in res.items():
        name = "two lanes (photogen)" if lanes else "one lane (reference)"
        print(f"{name}: sketch 256 px idle p50 {r['idle'][0]:.0f} / p95 {r['idle'][1]:.0f} ms; "
              f"during a 384 px style job p50 {r['busy'][0]:.0f} / p95 {r['busy'][1]:.0f} / max "
              f"{r['busy'][2]:.0f} ms; "
              f"the job advanced {r['job_steps']} evaluations in {r['seconds']:.1f} s")  # fmt: skip
    ratio = res[False]["busy"][2] / res[True]["busy"][2]
    print(
        f"slowest frame during the job: photogen {res[True]['busy'][2]:.0f} ms, reference "
        f"{res[False]['busy'][2]:.0f} ms, ratio: {ratio:.1f}x"
    )


if __name__ == "__main__":
    main()

"""Studio memory over a long mixed session: does the server's memory level off?

One visitor goes through every kind of work again and again, in the same process as the
server (Starlette's test client): sketch frames over the WebSocket, colour clicks on a
1-megapixel photo (each with a new hint), a style job, a quilting job on a large upload, a
playground job, uploads, the history and a settings lookup. After each round the process's
anonymous resident memory (``RssAnon`` in /proc/self/status: the heap and the tensors, not the
page cache of mapped files) is printed; the reference is the first round in the same process,
and the growth per round over the second half says whether it levels off.

    python benchmarks/studio_memory.py [--rounds 12] [--threads 2]
"""

from __future__ import annotations

import argparse
import base64
import json
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).parent))
from _common import print_peak  # noqa: E402


def rss_anon_mib() -> float:
    from photogen.core.memory import rss_anon

    now = rss_anon()
    if now is None:
        raise RuntimeError("no RssAnon in /proc/self/status")
    return now / 2**20


def main() -> None:
    from starlette.testclient import TestClient

    from photogen.core.device import cpu_flags
    from photogen.core.image import encode_png, read_image
    from photogen.core.resample import resize
    from photogen.core.samples import available_samples
    from photogen.studio.server import StudioConfig, create_app
    from photogen.studio.sketch import example_drawing

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=12)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)

    samples = available_samples()
    photo = read_image(samples["chelsea"])
    big = encode_png(resize(photo, (816, 1224)))  # ~1 MP, the colour clicks' photo
    large = encode_png(resize(photo, (1074, 1365)))  # the size that once made quilting black
    style = encode_png(read_image(samples.get("starry_night", samples["gravel"])))
    local = {"host": "localhost:7860"}
    app = create_app(StudioConfig())
    with TestClient(app, headers=local) as c:
        c.get("/")
        model = c.get("/api/sketch/models").json()[0]["name"]
        drawing = example_drawing(app.app.state.engine.models[model])

        def wait(job_id: str) -> dict:
            while True:
                s = c.get(f"/api/jobs/{job_id}").json()
                if s["status"] in ("done", "error", "cancelled"):
                    return s
                time.sleep(0.05)

        def one_round(r: int) -> dict:
            t = {}
            t0 = time.perf_counter()
            with c.websocket_connect("/ws/sketch", headers=local) as ws:
                for i in range(30):
                    d = drawing.clone()
                    d[..., 100 + i : 110 + i, 40:200] = 0.5
                    ws.send_text(
                        json.dumps(
                            {
                                "id": i,
                                "model": model,
                                "png": base64.b64encode(encode_png(d)).decode(),
                            }
                        )
                    )
                    json.loads(ws.receive_text())  # fmt: skip
            t["sketch"] = time.perf_counter() - t0
            t0 = time.perf_counter()
            for k in range(5):
                hints = json.dumps([[0.2 + 0.1 * k, 0.5, "#3060c0"], [0.8, 0.2 + 0.1 * r % 0.6,
                                                                      "#c04020"]])  # fmt: skip
                got = c.post("/api/colorize", files={"photo": ("p.png", big)},
                             data={"hints": hints})  # fmt: skip
                assert got.status_code == 200, got.text
            t["colour clicks"] = time.perf_counter() - t0
            t0 = time.perf_counter()
            pair = {"content": ("c.png", big), "style": ("s.png", style)}
            jobs = [
                c.post("/api/jobs/style", files=pair,
                       data={"size": "128", "steps": "10", "seed": str(r)}),
                c.post("/api/jobs/texture", files={"source": ("s.png", large)},
                       data={"method": "quilting", "size": "128", "seed": str(r)}),
                c.post("/api/jobs/playground", data={"epochs": "150", "seed": str(r)}),
            ]  # fmt: skip
            done = [wait(j.json()["id"]) for j in jobs]
            assert all(s["status"] == "done" for s in done), done
            t["jobs"] = time.perf_counter() - t0
            for _ in range(3):
                assert c.post("/api/upload?side=512", content=large).status_code == 200
            history = c.get("/api/jobs").json()
            result = c.get(f"/api/jobs/{history[-1]['id']}/result.png").content
            assert c.post("/api/settings", content=result).status_code == 200
            return t

        rows = []
        for r in range(args.rounds):
            t = one_round(r)
            rows.append(rss_anon_mib())
            spent = ", ".join(f"{k} {v:.1f} s" for k, v in t.items())
            print(f"round {r + 1:2d}: anonymous resident memory {rows[-1]:7.0f} MiB  ({spent})")
    half = rows[len(rows) // 2 :]
    slope = (half[-1] - half[0]) / max(1, len(half) - 1)
    print(f"threads {args.threads}; CPU flags: {cpu_flags()}")
    # memory, not arithmetic: the networks' shares of peak are in studio.py and colorize.py
    print_peak()
    print(f"photogen studio after {args.rounds} rounds: {rows[-1]:.0f} MiB, reference (after "
          f"round 1): {rows[0]:.0f} MiB, ratio {rows[-1] / rows[0]:.2f}; growth over the second "
          f"half: {slope:+.1f} MiB a round")  # fmt: skip


if __name__ == "__main__":
    main()

"""Studio sketch endpoint under load: N clients drawing at once for T seconds.

Each client sends a drawing over its own WebSocket, waits for the picture, changes a few
pixels and sends again (a person drawing without pause). Reports errors, lost requests
(sent and never answered), p50/p95 latency, the server's resident memory at start and end,
and, as the reference measured in the same process, one direct library call
(``SketchEngine.translate_png``) per frame: the ratio is what the server costs on top.

    python benchmarks/studio.py [--clients 16] [--seconds 60] [--models RUN ...]
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import statistics
import sys
import threading
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).parent))
from _common import against_peak, conv_flops, print_peak  # noqa: E402


def rss_mib() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def main() -> None:
    import uvicorn
    from websockets.sync.client import connect

    from photogen.cli.studio import free_port
    from photogen.core.image import encode_png
    from photogen.pix2pix.facades import PALETTE
    from photogen.studio.server import StudioConfig, create_app
    from photogen.studio.sketch import SketchEngine, example_drawing, find_models

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clients", type=int, default=16)
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--models", nargs="*", default=[])
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)

    models = find_models(args.models)
    if not models:
        raise SystemExit("no sketch model: pass --models RUN_FOLDER")
    model = models[0]
    engine = SketchEngine(models)
    drawing = example_drawing(model)
    png = encode_png(drawing)

    # Reference: the library call alone, same frames, same process.
    engine.translate_png(model.name, png)  # load once
    direct = []
    for i in range(20):
        d = drawing.clone()
        d[..., 10 + i : 20 + i, 10:20] = torch.tensor(PALETTE["door"]).view(1, 3, 1, 1)
        t0 = time.perf_counter()
        engine.translate_png(model.name, encode_png(d))
        direct.append((time.perf_counter() - t0) * 1000)

    port = free_port()
    app = create_app(StudioConfig(), engine=engine)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    rss_start = rss_mib()
    latencies, errors, lost = [], [], [0]
    lock = threading.Lock()
    stop = time.perf_counter() + args.seconds

    def client(k: int) -> None:
        url = f"ws://127.0.0.1:{port}/ws/sketch"
        with connect(url, max_size=2**24) as ws:
            i = 0
            while time.perf_counter() < stop:
                i += 1
                d = drawing.clone()
                y = (7 * i + 13 * k) % 240
                d[..., y : y + 12, 20:60] = torch.tensor(PALETTE["window"]).view(1, 3, 1, 1)
                frame = base64.b64encode(encode_png(d)).decode()
                t0 = time.perf_counter()
                ws.send(json.dumps({"id": i, "model": model.name, "png": frame}))
                try:
                    reply = json.loads(ws.recv(timeout=120))
                except TimeoutError:
                    with lock:
                        lost[0] += 1
                    return
                ms = (time.perf_counter() - t0) * 1000
                with lock:
                    if "error" in reply or reply.get("id") != i:
                        errors.append(reply.get("error", f"answer {reply.get('id')} for {i}"))
                    else:
                        latencies.append(ms)

    threads = [threading.Thread(target=client, args=(k,)) for k in range(args.clients)]
    for t in threads:
        t.start()
    series = []  # resident memory every 5 s while the clients draw
    while any(t.is_alive() for t in threads):
        series.append(round(rss_mib()))
        for t in threads:
            t.join(timeout=5.0 / len(threads))
    rss_end = rss_mib()
    warm = series[min(2, len(series) - 1)] if series else rss_start  # after ~10 s of load
    server.should_exit = True
    if not latencies:
        raise SystemExit(f"no frame answered; errors: {errors[:3]}, lost {lost[0]}")

    q = statistics.quantiles(latencies, n=20) if len(latencies) > 1 else [float("nan")] * 19
    p50, p95 = statistics.median(latencies), q[18]
    ref = statistics.median(direct)
    print(f"model {model.name!r}, {args.clients} clients, {args.seconds:.0f} s, "
          f"{args.threads} threads")  # fmt: skip
    print(f"answered {len(latencies)} frames ({len(latencies) / args.seconds:.1f}/s), errors "
          f"{len(errors)}, lost {lost[0]}")  # fmt: skip
    print(f"latency p50 {p50:.0f} ms, p95 {p95:.0f} ms ({args.clients} drawing clients "
          f"share the interactive lane's threads and the cores: each waits its turn)")  # fmt: skip
    per_frame = args.seconds * 1000 / max(1, len(latencies))
    print(f"photogen studio: {per_frame:.1f} ms a frame, reference (direct call): "
          f"{ref:.1f} ms, ratio: {ref / per_frame:.2f}")  # fmt: skip
    print_peak()
    generator = engine.translator(model.name).model
    flops = conv_flops(generator, torch.zeros(1, 3, 256, 256))
    against_peak("the generator's convolutions, one frame at a time through the studio", flops,
                 per_frame / 1000)  # fmt: skip
    print(f"resident memory: {rss_start:.0f} MiB idle, {warm:.0f} MiB after ~10 s of load, "
          f"{rss_end:.0f} MiB at end ({100 * (rss_end - warm) / warm:+.1f}% since warm-up); "
          f"every 5 s: {series}")  # fmt: skip
    if errors:
        print("first errors:", errors[:3])


if __name__ == "__main__":
    main()

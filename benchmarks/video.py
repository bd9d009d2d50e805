"""Video: temporal coherence against per-frame work, and the inference engines, one process.

1. For each clip (a still photo panned by a known 3 x 1 px per frame, and Debian opencv-doc's
   vtest.avi, Megamind.avi, tree.avi when installed) and each method (colorize lite at 256,
   Gatys style transfer at 160 px, pix2pix with the bundled facades generator on blurred
   frames): Lai et al.'s warping error (mean |O_t - warp(O_{t-1})| over reliable pixels, flow
   from the inputs, in grey levels 0-255), Hasler-Suesstrunk colourfulness and seconds per
   frame, per-frame (the reference) vs temporal, and the ratios. The input's own warping
   error is printed as the floor (a method that keeps the input's lightness cannot go below
   it by much).
2. Engines on the same frames at 256x256: PyTorch eager (float32, the reference) vs ONNX
   Runtime and OpenVINO (float32): ms per frame, speed-up, max |difference|.

    python benchmarks/video.py [--frames 24] [--style-frames 8] [--repeats 30]
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).parent))
from _common import conv_flops, peak, print_peak  # noqa: E402

DATA = Path("/usr/share/doc/opencv-doc/examples/data")


def clips(n: int) -> dict[str, list[torch.Tensor]]:
    from photogen.core.samples import load_sample, pan_clip
    from photogen.core.video import read_frames

    out = {"pan (known motion)": pan_clip(load_sample("astronaut"), n, (256, 320), (3, 1))}
    for name in ("vtest.avi", "Megamind.avi", "tree.avi"):
        if (DATA / name).is_file():
            frames = [f.image for f in itertools.islice(read_frames(DATA / name), n)]
            # at most 320 px wide, as the methods would see them anyway
            s = min(1.0, 320 / frames[0].shape[-1])
            if s < 1:
                frames = [torch.nn.functional.interpolate(f, scale_factor=s, mode="area")
                          for f in frames]  # fmt: skip
            out[name] = frames
    return out


def measure(processor, clip) -> tuple[list[torch.Tensor], float]:
    from photogen.core.video import Frame

    t0 = time.perf_counter()
    outs = [processor(Frame(i, i, i / 24, f)) for i, f in enumerate(clip)]
    return outs, (time.perf_counter() - t0) / len(clip)


def coherence(args) -> None:
    from importlib.resources import files

    from photogen.colorize.metrics import colourfulness
    from photogen.colorize.pipeline import load_model
    from photogen.colorize.video import ColorizeFrames
    from photogen.core.flow import warping_error
    from photogen.core.samples import load_sample
    from photogen.gatys.style import StyleConfig
    from photogen.gatys.video import StylizeFrames
    from photogen.pix2pix.infer import BatchTranslator
    from photogen.pix2pix.models import load_generator
    from photogen.pix2pix.video import Pix2PixFrames
    from photogen.studio.sketch import BUNDLED_FACADES

    lite = load_model("lite")
    translator = BatchTranslator(load_generator(str(files("photogen") / "data" / BUNDLED_FACADES)))
    style = load_sample("starry_night")
    cfg = StyleConfig(max_size=160, steps=args.style_steps)
    methods = {
        "colorize": (lambda t: ColorizeFrames(lite, 256, temporal=t), args.frames),
        "pix2pix": (
            lambda t: Pix2PixFrames(translator, 256, transform="blur", temporal=t),
            args.frames,
        ),  # fmt: skip
        "stylize": (lambda t: StylizeFrames([style], cfg, temporal=t), args.style_frames),
    }
    from photogen.faststyle.models import BUNDLED
    from photogen.faststyle.train import load_model as load_fast
    from photogen.faststyle.video import FastStyleFrames

    fast_model = args.fast_model or next(iter(BUNDLED), None)
    if fast_model:
        fast = load_fast(fast_model)
        methods["fast-style"] = (lambda t: FastStyleFrames(fast, t), args.frames)
    if args.methods:
        methods = {k: v for k, v in methods.items() if k in args.methods}
    print(f"{'clip':<20}{'method':<11}{'floor':>7}{'warp err':>17}{'ratio':>7}"
          f"{'colourfulness':>18}{'ratio':>7}{'s/frame':>17}{'ratio':>7}")  # fmt: skip
    for cname, frames in clips(args.frames).items():
        for mname, (make, n) in methods.items():
            if mname == "stylize" and cname not in ("pan (known motion)", "vtest.avi"):
                continue
            clip = frames[:n]
            floor = warping_error(clip, clip) * 255
            plain, t_plain = measure(make(False), clip)
            smooth, t_smooth = measure(make(True), clip)
            e0, e1 = warping_error(plain, clip) * 255, warping_error(smooth, clip) * 255
            c0 = statistics.mean(map(colourfulness, plain))
            c1 = statistics.mean(map(colourfulness, smooth))
            print(f"{cname:<20}{mname:<11}{floor:>7.2f}{e0:>8.2f} -> {e1:<6.2f}{e0 / e1:>7.2f}"
                  f"{c0:>8.1f} -> {c1:<6.1f}{c1 / c0:>7.2f}{t_plain:>8.3f} -> {t_smooth:<6.3f}"
                  f"{t_smooth / t_plain:>7.2f}", flush=True)  # fmt: skip


def engines(args) -> None:
    from importlib.resources import files

    from photogen.colorize.pipeline import load_model
    from photogen.core.engines import compile_module
    from photogen.pix2pix.infer import BatchTranslator
    from photogen.pix2pix.models import load_generator
    from photogen.studio.sketch import BUNDLED_FACADES

    translator = BatchTranslator(load_generator(str(files("photogen") / "data" / BUNDLED_FACADES)))
    nets = {
        "pix2pix facades-lite (U-Net ngf 24)": (translator.frozen(256, 0), (1, 3, 256, 256)),
        "colorize lite (EfficientNet-Lite0)": (load_model("lite"), (1, 1, 256, 256)),
    }
    g = torch.Generator().manual_seed(0)
    top = peak()["float32"]
    print(f"\n{'network':<38}{'engine':<18}{'ms/frame':>9}{'speed-up':>10}{'max |diff|':>12}"
          f"{'fp32 peak':>11}")  # fmt: skip
    for name, (module, shape) in nets.items():
        lo, hi = (-1.0, 1.0) if shape[1] == 3 else (0.0, 100.0)  # pix2pix [-1, 1], L [0, 100]
        xs = [lo + (hi - lo) * torch.rand(shape, generator=g) for _ in range(4)]
        flops = conv_flops(module, xs[0])
        runners = {}
        # each engine at float32, and at bf16 where it has it (--precision's choices)
        for engine, precision in (("torch", "fp32"), ("onnxruntime", "fp32"),
                                  ("openvino", "fp32"), ("torch", "bf16"),
                                  ("openvino", "bf16")):  # fmt: skip
            e = engine if precision == "fp32" else f"{engine} bf16"
            try:
                runners[e] = compile_module(module, xs[0], engine, precision=precision)
            except Exception as exc:  # noqa: BLE001 - a missing engine is reported, not fatal
                print(f"{name:<38}{e:<18} unavailable: {exc}")
        times = {e: [] for e in runners}
        for r in range(args.repeats):  # interleaved, medians
            for e, run in runners.items():
                x = xs[r % len(xs)]
                t0 = time.perf_counter()
                run(x)
                times[e].append(time.perf_counter() - t0)
        ref = statistics.median(times["torch"])
        ref_out = runners["torch"](xs[0])
        for e, run in runners.items():
            med = statistics.median(times[e])
            diff = float((run(xs[0]) - ref_out).abs().max())
            share = 100 * flops / med / 1e9 / top
            print(f"{name:<38}{e:<18}{med * 1000:>9.1f}{ref / med:>10.2f}{diff:>12.1e}"
                  f"{share:>10.0f}%")  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=24)
    ap.add_argument("--style-frames", type=int, default=8)
    ap.add_argument("--style-steps", type=int, default=80)
    ap.add_argument("--repeats", type=int, default=30)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--skip-coherence", action="store_true")
    ap.add_argument("--skip-engines", action="store_true")
    ap.add_argument("--methods", nargs="*", help="colorize pix2pix stylize fast-style (all)")
    ap.add_argument("--fast-model", help="fast style network (default: the first bundled)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, {args.threads} threads")
    print_peak()
    if not args.skip_coherence:
        coherence(args)
    if not args.skip_engines:
        engines(args)


if __name__ == "__main__":
    main()

"""Colorization inference: photogen's eccv16 vs the literal released module, one process.

1. Network at 256x256 (photogen through its own loading and inference path, ``load_model`` +
   ``predict_ab``: channels_last, inference mode), same weights (the official ones when they
   are in the cache, otherwise random weights with realistic batch-norm statistics: the time
   does not depend on them):
   seconds per image, ratio, max |ab| difference (both at T=1, the released decoding), and
   the peak memory each adds. Interleaved repeats, medians.
2. The bf16 path (autocast) against the same reference: only meaningful where the CPU has bf16
   units (AVX512-BF16 / AMX) or on a GPU; elsewhere it is emulated and slower, and is
   printed as such.
3. Whole-folder throughput, what a user waits for: N photos of 1-12 MP (real photos resized,
   written once to a cache folder) through decode + network + recombination with the full
   resolution L + encode, with and without the overlapped reader/writer threads.

    python benchmarks/colorize.py [--repeats 5] [--photos 100] [--folder-model eccv16]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(ROOT))

from _common import against_peak, conv_flops, measure, median, print_peak  # noqa: E402

from photogen.colorize.models import ECCV16  # noqa: E402
from photogen.colorize.pipeline import colorize_files, load_model, predict_ab  # noqa: E402
from photogen.core.device import cpu_has_bf16, set_threads  # noqa: E402
from photogen.core.image import list_images, read_image, save_image  # noqa: E402
from photogen.core.weights import WeightsError, load_state_dict  # noqa: E402
from tests.colorize.test_models import OfficialECCV, _randomised  # noqa: E402


def weights() -> tuple[dict, str]:
    try:
        return load_state_dict("eccv16"), "official eccv16 weights"
    except WeightsError:
        return _randomised(OfficialECCV()).state_dict(), "random weights (official not cached)"


def time_once(fn, x) -> tuple[float, torch.Tensor, float]:
    with measure() as m:
        out = fn(x)
    return m["seconds"], out, m["peak_mb"]


def network_benchmark(repeats: int, size: int) -> None:
    state, what = weights()
    ref = OfficialECCV()
    ref.load_state_dict(state)
    ref.eval()
    with tempfile.TemporaryDirectory() as tmp:  # ours goes through the user's loading path
        torch.save(state, Path(tmp) / "eccv16-bench.pth")
        ours = load_model(Path(tmp) / "eccv16-bench.pth", temperature=1.0)
    x = torch.rand(1, 1, size, size, generator=torch.Generator().manual_seed(0)) * 100

    def run_ref(t):
        with torch.no_grad():
            return ref(t)

    def run_ours(t):
        return predict_ab(ours, t, size)

    def run_bf16(t):
        return predict_ab(ours, t, size, autocast=torch.bfloat16)

    for fn in (run_ref, run_ours, run_bf16):  # warm-up (oneDNN primitive caches)
        fn(x)
    times = {"ref": [], "ours": [], "bf16": []}
    mem = {"ref": [], "ours": [], "bf16": []}
    outs = {}
    for i in range(repeats):
        for key, fn in (("ref", run_ref), ("ours", run_ours), ("bf16", run_bf16)):
            if key == "bf16" and i and not cpu_has_bf16():
                continue  # emulated bf16 is ~10x slower: once is enough to show it
            s, out, peak = time_once(fn, x)
            times[key].append(s)
            mem[key].append(peak)
            outs[key] = out
    t_ref, t_ours, t_bf16 = (median(times[k]) for k in ("ref", "ours", "bf16"))
    diff = float((outs["ours"] - outs["ref"]).abs().max())
    diff16 = float((outs["bf16"] - outs["ref"]).abs().max())
    print(f"eccv16 at {size}x{size}, {what}, {torch.get_num_threads()} threads, {repeats} repeats")
    print(
        f"  fp32: photogen {t_ours:.3f} s, reference {t_ref:.3f} s, ratio {t_ref / t_ours:.2f}, "
        f"max |ab diff| {diff:.2e}"
    )
    peaks = {k: peak_memory(k, size) for k in ("ours", "ref")}
    print(
        f"  peak memory of one inference (fresh process): photogen {peaks['ours']:.0f} MB, "
        f"reference {peaks['ref']:.0f} MB"
    )
    native = "native bf16" if cpu_has_bf16() else "NO native bf16 on this CPU: emulated"
    print(
        f"  bf16 autocast ({native}): {t_bf16:.3f} s, ratio {t_ref / t_bf16:.2f}, "
        f"max |ab diff| {diff16:.2f}"
    )
    flops = conv_flops(ours, x)
    print_peak()
    against_peak(f"  eccv16 fp32 ({flops / 1e9:.1f} GFLOP a frame)", flops, t_ours)
    against_peak("  eccv16 bf16 autocast", flops, t_bf16, "bfloat16")


def peak_memory(which: str, size: int) -> float:
    """MB the resident set grows by during one inference, in a fresh process."""
    import subprocess

    code = (
        "import sys, torch; sys.path[:0] = [sys.argv[1], sys.argv[2]];"
        "from _common import measure;"
        "from tests.colorize.test_models import OfficialECCV;"
        "from photogen.colorize.models import ECCV16;"
        "from photogen.colorize.pipeline import predict_ab;"
        "n = int(sys.argv[4]); x = torch.rand(1, 1, n, n) * 100;"
        "ref = sys.argv[3] == 'ref';"
        "m = OfficialECCV().eval() if ref else "
        "ECCV16(1.0).eval().to(memory_format=torch.channels_last);"
        "ctx = torch.no_grad(); ctx.__enter__();"
        "cm = measure(); r = cm.__enter__();"
        "m(x) if ref else predict_ab(m, x, n);"
        "cm.__exit__(None, None, None); print(r['peak_mb'])"
    )
    args = [sys.executable, "-c", code, str(Path(__file__).parent), str(ROOT), which, str(size)]
    out = subprocess.run(args, capture_output=True, text=True, check=True)
    return float(out.stdout.strip().splitlines()[-1])


def make_folder(n: int, folder: Path) -> list[Path]:
    """``n`` JPEGs of 1..12 MP (3:2) made from the offline photos; reused when present."""
    folder.mkdir(parents=True, exist_ok=True)
    existing = sorted(folder.glob("*.jpg"))
    if len(existing) >= n:
        return existing[:n]
    from photogen.core.samples import OPENCV_DOC, _skimage_dir

    sources = list_images(_skimage_dir(), recursive=False)
    if OPENCV_DOC.is_dir():
        sources += list_images(OPENCV_DOC)
    photos = []
    for p in sources:
        try:
            img = read_image(p)
        except Exception:  # noqa: BLE001 (only usable photos are kept)
            continue
        if min(img.shape[-2:]) >= 256:
            photos.append(img)
    g = torch.Generator().manual_seed(0)
    for i in range(n):
        mp = 1 + 11 * i / max(1, n - 1)
        w = int((mp * 1e6 * 1.5) ** 0.5)
        h = int(w / 1.5)
        img = photos[int(torch.randint(len(photos), (1,), generator=g))]
        big = torch.nn.functional.interpolate(img, size=(h, w), mode="bilinear")
        save_image(big.clamp(0, 1), folder / f"photo{i:03d}.jpg", quality=90)
    return sorted(folder.glob("*.jpg"))[:n]


def folder_benchmark(n: int, model_name: str) -> None:
    folder = Path(tempfile.gettempdir()) / "photogen-bench-colorize"
    t0 = time.perf_counter()
    paths = make_folder(n, folder)
    made = time.perf_counter() - t0
    if model_name == "eccv16":
        state, what = weights()
        model = ECCV16()
        model.load_state_dict(state)
        model.eval()
    else:
        model, what = load_model(model_name), model_name
    mp = sum(read_image_size(p) for p in paths) / 1e6
    print(f"folder: {len(paths)} photos, {mp:.0f} MP in all (prepared in {made:.0f} s), {what}")
    with tempfile.TemporaryDirectory() as out:
        outs = [Path(out) / p.name for p in paths]
        for overlap in (True, False):
            start = time.perf_counter()
            failed = colorize_files(model, paths, outs, overlap=overlap)
            sec = time.perf_counter() - start
            label = "overlapped" if overlap else "sequential"
            print(
                f"  {label}: {sec:.1f} s, {len(paths) / sec:.2f} photos/s, {mp / sec:.1f} MP/s"
                f"{f', {failed} failed' if failed else ''}"
            )


def read_image_size(path: Path) -> int:
    from PIL import Image

    with Image.open(path) as im:
        return im.width * im.height


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--size", type=int, default=256)
    p.add_argument("--photos", type=int, default=100, help="folder size (0: skip)")
    p.add_argument("--folder-model", default="eccv16", help="eccv16, lite, or a weights file")
    p.add_argument("--threads", type=int, default=None)
    args = p.parse_args()
    set_threads(args.threads)
    network_benchmark(args.repeats, args.size)
    if args.photos:
        folder_benchmark(args.photos, args.folder_model)
    return 0


if __name__ == "__main__":
    sys.exit(main())

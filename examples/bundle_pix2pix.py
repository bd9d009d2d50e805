"""Pack a ``photogen pix2pix train`` run as a bundled model: float16 storage, and the measured
difference to the float32 generator on the held-out pairs.

    python examples/bundle_pix2pix.py runs/facades-ngf24 data/facades/test \
        src/photogen/data/pix2pix-facades-lite.safetensors
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

from photogen.core.weights import load_state_dict, save_safetensors
from photogen.pix2pix.data import find_pairs, from_model, to_model
from photogen.pix2pix.infer import BatchTranslator
from photogen.pix2pix.models import generator_from_state, load_generator


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("run", type=Path)
    ap.add_argument("test", type=Path, help="held-out A|B pairs")
    ap.add_argument("out", type=Path)
    args = ap.parse_args()
    state = load_state_dict(args.run / "generator.safetensors")
    half = {k: v.half() if v.is_floating_point() else v for k, v in state.items()}
    save_safetensors(half, args.out, {"format": "photogen-pix2pix-generator",
                                      "source": args.run.name, "dtype": "float16"})  # fmt: skip
    full = BatchTranslator(load_generator(args.run))
    packed = BatchTranslator(generator_from_state(load_state_dict(args.out))[0].train())
    worst, psnrs = 0.0, []
    from photogen.core.image import read_image

    for pair_files in find_pairs(args.test):
        pair = read_image(pair_files.a)
        a = pair[..., : pair.shape[-1] // 2]
        x = to_model(a)
        y32, y16 = from_model(full(x, [0])), from_model(packed(x, [0]))
        err = (y32 - y16).abs()
        worst = max(worst, float(err.max()))
        mse = float((err**2).mean())
        psnrs.append(99.0 if mse == 0 else 10 * math.log10(1 / mse))
    params = sum(v.numel() for v in state.values() if v.is_floating_point())
    print(f"{args.out}: {args.out.stat().st_size / 2**20:.1f} MiB ({params:,} parameters, float16)")
    mean = sum(psnrs) / len(psnrs)
    print(f"float16 vs float32 on {len(psnrs)} held-out pairs: PSNR min {min(psnrs):.1f} dB, "
          f"mean {mean:.1f} dB; largest pixel difference {worst * 255:.1f}/255")  # fmt: skip


if __name__ == "__main__":
    main()

"""Bundle a trained fast style network with photogen.

Copies ``RUN/model.safetensors`` to ``src/photogen/data/faststyle-NAME.safetensors`` and prints
its size and sha256 (for ``photogen.faststyle.models.BUNDLED`` and the model card).

    python examples/bundle_fast_style.py runs/starry starry
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
from pathlib import Path

DATA = Path(__file__).resolve().parent.parent / "src" / "photogen" / "data"
LIMIT = 10 * 2**20  # a bundled model is at most 10 MiB


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("run", type=Path)
    ap.add_argument("name")
    args = ap.parse_args()
    src = args.run / "model.safetensors"
    if src.stat().st_size > LIMIT:
        raise SystemExit(f"{src}: {src.stat().st_size / 2**20:.1f} MiB, more than 10 MiB")
    dst = DATA / f"faststyle-{args.name}.safetensors"
    shutil.copyfile(src, dst)
    digest = hashlib.sha256(dst.read_bytes()).hexdigest()
    print(f'"{args.name}": ("{dst.name}", "{digest}", ...)  # {dst.stat().st_size / 2**20:.2f} MiB')


if __name__ == "__main__":
    main()

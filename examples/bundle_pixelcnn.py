"""Bundle the studio's demo PixelCNN and its sample pictures.

Copies ``RUN/model.safetensors`` to ``src/photogen/data/pixelcnn-fashion.safetensors`` and
writes six Fashion-MNIST *test* images (never seen in training) as the Completion tab's
sample pictures, ``src/photogen/data/samples/fashion-*.png``.

    python examples/bundle_pixelcnn.py runs/fmnist-demo
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
from pathlib import Path

from photogen.core.datasets import fashion_mnist
from photogen.core.image import save_image

DATA = Path(__file__).resolve().parent.parent / "src" / "photogen" / "data"
NAMES = ["t-shirt", "trouser", "pullover", "dress", "coat", "sandal", "shirt", "sneaker",
         "bag", "ankle-boot"]  # fmt: skip
PICKED = [0, 1, 3, 4, 8, 9]  # classes shown


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("run", type=Path)
    args = ap.parse_args()
    dst = DATA / "pixelcnn-fashion.safetensors"
    shutil.copyfile(args.run / "model.safetensors", dst)
    print(f"{dst} {dst.stat().st_size / 2**20:.2f} MiB sha256 "
          f"{hashlib.sha256(dst.read_bytes()).hexdigest()}")  # fmt: skip
    _, _, test_x, test_y = fashion_mnist()
    (DATA / "samples").mkdir(exist_ok=True)
    for cls in PICKED:
        i = int((test_y == cls).nonzero()[0, 0])
        img = test_x[i : i + 1].float().div(255.0).expand(-1, 3, -1, -1)
        save_image(img, DATA / "samples" / f"fashion-{NAMES[cls]}.png")
    print(f"{len(PICKED)} sample pictures in {DATA / 'samples'}")


if __name__ == "__main__":
    main()

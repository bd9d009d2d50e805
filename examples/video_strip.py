"""The README's video figure: consecutive frames, per-frame vs temporal, with the differences.

Rows: the input; colorize lite per frame; colorize with the flow-carried ab; stylize per
frame; stylize with Ruder's temporal loss. Columns: every ``--every``-th frame of the clip.
Pictures of flicker need the change between frames: the last column of each row shows
|frame_t - warp(frame_{t-1})| (brighter = more flicker), averaged over the clip.

    python examples/video_strip.py [CLIP] -o docs/images/video_strip.jpg
"""

from __future__ import annotations

import argparse
import itertools

import torch

from photogen.colorize.pipeline import load_model
from photogen.colorize.video import ColorizeFrames
from photogen.core.flow import FlowPair, grey_u8
from photogen.core.image import save_image
from photogen.core.samples import load_sample, pan_clip
from photogen.core.video import Frame, read_frames
from photogen.gatys.style import StyleConfig
from photogen.gatys.video import StylizeFrames


def flicker_map(outputs, inputs) -> torch.Tensor:
    acc = torch.zeros_like(outputs[0][:, :1])
    for t in range(1, len(outputs)):
        pair = FlowPair(grey_u8(inputs[t - 1]), grey_u8(inputs[t]))
        warped, mask = pair.warp_previous(outputs[t - 1])
        acc += (outputs[t] - warped).abs().mean(1, keepdim=True) * mask
    return (acc / (len(outputs) - 1) * 4).clamp(0, 1).expand(-1, 3, -1, -1)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("clip", nargs="?", help="a video (default: a pan over a still photo)")
    ap.add_argument("-o", "--output", default="docs/images/video_strip.jpg")
    ap.add_argument("--frames", type=int, default=12)
    ap.add_argument("--every", type=int, default=3)
    args = ap.parse_args()
    torch.set_num_threads(2)
    if args.clip:
        clip = [f.image for f in itertools.islice(read_frames(args.clip), args.frames)]
    else:
        clip = pan_clip(load_sample("astronaut"), args.frames, (192, 256), (3, 1))
    clip = [torch.nn.functional.interpolate(f, size=(144, 192), mode="area") for f in clip]
    lite = load_model("lite")
    style = load_sample("starry_night")
    cfg = StyleConfig(max_size=192, steps=80)
    rows = [clip]
    for make in (lambda t: ColorizeFrames(lite, 256, temporal=t),
                 lambda t: StylizeFrames([style], cfg, temporal=t)):  # fmt: skip
        for temporal in (False, True):
            proc = make(temporal)
            rows.append([proc(Frame(i, i, i / 24, f)) for i, f in enumerate(clip)])
    gap = 4
    h, w = clip[0].shape[-2:]
    cols = list(range(0, args.frames, args.every))
    sheet = torch.ones(1, 3, len(rows) * (h + gap) - gap, (len(cols) + 1) * (w + gap) - gap)
    for r, row in enumerate(rows):
        tiles = [row[c] for c in cols] + [flicker_map(row, clip)]
        for c, tile in enumerate(tiles):
            tile = torch.nn.functional.interpolate(tile, size=(h, w), mode="area")
            sheet[..., r * (h + gap) : r * (h + gap) + h, c * (w + gap) : c * (w + gap) + w] = tile
    save_image(sheet, args.output)
    print(f"-> {args.output}")


if __name__ == "__main__":
    main()

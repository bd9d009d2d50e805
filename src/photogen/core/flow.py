"""Optical flow between video frames, warping, occlusions and the warping error.

Flow is OpenCV's DIS (Kroeger et al. 2016, ``cv2.DISOpticalFlow``), computed on the input
frames' grey levels. Conventions: ``flow_ab`` maps a pixel ``x`` of frame ``a`` to
``x + flow_ab(x)`` in frame ``b``; ``warp(img_b, flow_ab)`` brings frame ``b``'s content onto
frame ``a``'s pixels (backward warping, bilinear).

Occlusions and motion boundaries follow Ruder, Dosovitskiy and Brox 2016 (Sec. 3.2): a pixel
is unreliable where the forward and backward flows disagree,
``|w + w'(x + w)|^2 > 0.01 (|w|^2 + |w'(x + w)|^2) + 0.5``, or where the flow changes fast,
``|grad u|^2 + |grad v|^2 > 0.01 |w|^2 + 0.002``.

The warping error is Lai et al. 2018's temporal-consistency measure with the absolute
difference: the mean over frames of ``mean |O_t - warp(O_{t-1})|`` over reliable pixels,
with the flow taken from the inputs.
"""

from __future__ import annotations

import numpy as np
import torch

PRESETS = {"ultrafast": 0, "fast": 1, "medium": 2}


def _cv2():
    try:
        import cv2
    except ImportError as e:  # pragma: no cover - a dependency
        raise RuntimeError("optical flow needs OpenCV: pip install opencv-python-headless") from e
    return cv2


def _dis(preset: str):
    """A new DIS object: ``calc`` keeps state in the object (the second call on one object
    differs from the first by up to 0.09 px on the same frames), so one per call makes the flow
    a function of the two frames alone: the same after a resume, and in any thread (two
    threads must not share one either). Costs about 2 ms of allocation at 640x480 (15%)."""
    return _cv2().DISOpticalFlow_create(PRESETS[preset])


def grey_u8(image: torch.Tensor) -> np.ndarray:
    """``(1, 3, H, W)`` in [0, 1] -> ``(H, W)`` uint8 luma (Rec. 601 weights), for flow."""
    if image.dim() != 4 or image.shape[1] not in (1, 3):
        raise ValueError(f"expected (1, 3, H, W), got {tuple(image.shape)}")
    from photogen.core.color import rgb_to_gray

    x = image.detach().float().cpu()
    y = x[0, 0] if x.shape[1] == 1 else rgb_to_gray(x)[0, 0]
    return np.ascontiguousarray(y.clamp(0, 1).mul(255).round().to(torch.uint8).numpy())


def dis_flow(a: np.ndarray, b: np.ndarray, preset: str = "medium") -> np.ndarray:
    """Flow from grey frame ``a`` to grey frame ``b`` (``(H, W)`` uint8) -> ``(H, W, 2)``
    float32 (dx, dy) in pixels."""
    if a.shape != b.shape or a.dtype != np.uint8 or a.ndim != 2:
        raise ValueError("flow needs two (H, W) uint8 frames of one size")
    if preset not in PRESETS:
        raise ValueError(f"preset must be one of {', '.join(PRESETS)}, got {preset!r}")
    return _dis(preset).calc(a, b, None)


def warp(image: torch.Tensor, flow: np.ndarray, mode: str = "bilinear") -> torch.Tensor:
    """Sample ``image`` ``(B, C, H, W)`` at ``x + flow(x)`` (``bilinear`` or ``bicubic``:
    sharper when a result is carried from frame to frame; borders replicated)."""
    h, w = image.shape[-2:]
    if flow.shape != (h, w, 2):
        raise ValueError(f"flow {flow.shape} does not match the image's {h}x{w}")
    f = torch.from_numpy(np.ascontiguousarray(flow)).to(image.device, torch.float32)
    ys, xs = torch.meshgrid(
        torch.arange(h, device=image.device, dtype=torch.float32),
        torch.arange(w, device=image.device, dtype=torch.float32),
        indexing="ij",
    )
    gx = (xs + f[..., 0]) * (2.0 / max(w - 1, 1)) - 1.0
    gy = (ys + f[..., 1]) * (2.0 / max(h - 1, 1)) - 1.0
    grid = torch.stack([gx, gy], -1)[None].expand(image.shape[0], -1, -1, -1)
    return torch.nn.functional.grid_sample(
        image.float(), grid, mode=mode, padding_mode="border", align_corners=True
    ).to(image.dtype)


def reliable(flow_ab: np.ndarray, flow_ba: np.ndarray) -> torch.Tensor:
    """Ruder et al.'s mask for ``flow_ab`` (see the module): ``(1, 1, H, W)`` float, 1 where
    the flow can be trusted (not occluded, not on a motion boundary, not leaving the frame)."""
    w = torch.from_numpy(np.ascontiguousarray(flow_ab)).permute(2, 0, 1)[None]
    back = warp(torch.from_numpy(np.ascontiguousarray(flow_ba)).permute(2, 0, 1)[None], flow_ab)
    s = w + back
    bad = (s**2).sum(1) > 0.01 * ((w**2).sum(1) + (back**2).sum(1)) + 0.5
    du_y, du_x = torch.gradient(w[0, 0])
    dv_y, dv_x = torch.gradient(w[0, 1])
    grad2 = du_x**2 + du_y**2 + dv_x**2 + dv_y**2
    bad |= grad2[None] > 0.01 * (w**2).sum(1) + 0.002
    h, wd = flow_ab.shape[:2]
    ys, xs = torch.meshgrid(torch.arange(h), torch.arange(wd), indexing="ij")
    tx, ty = xs + w[0, 0], ys + w[0, 1]
    bad |= ((tx < 0) | (tx > wd - 1) | (ty < 0) | (ty > h - 1))[None]
    return (~bad).float()[:, None]


class FlowPair:
    """The flows between consecutive input frames, computed once and shared: ``back`` maps
    frame t's pixels into frame t-1, ``mask`` says where that mapping is reliable."""

    def __init__(self, previous: np.ndarray, current: np.ndarray, preset: str = "medium",
                 photometric: float | None = None, consistency: bool = True):  # fmt: skip
        """``photometric``: also distrust pixels whose grey level moved by the flow differs
        from the current one by more than this (0-1): small movers whose flow the smooth
        DIS field misses (walking people at 200 px) would otherwise leave ghosts.
        ``consistency=False`` skips the forward flow and Ruder's test (half the cost; with
        ``photometric`` set, occlusions still show as grey-level changes)."""
        self.back = dis_flow(current, previous, preset)
        if consistency:
            self.mask = reliable(self.back, dis_flow(previous, current, preset))
        else:
            self.mask = torch.ones(1, 1, *current.shape)
        if photometric is not None:
            prev = torch.from_numpy(previous).float()[None, None] / 255.0
            cur = torch.from_numpy(current).float()[None, None] / 255.0
            self.mask = self.mask * ((warp(prev, self.back) - cur).abs() <= photometric).float()

    def warp_previous(self, previous_output: torch.Tensor, mode: str = "bilinear"):
        """``(warped, mask)``: the previous frame's output moved onto the current frame (any
        channels; the flow is resized if the output has another size than the input)."""
        flow, mask = self.at(previous_output.shape[-2:])
        return warp(previous_output, flow, mode), mask

    def at(self, size) -> tuple[np.ndarray, torch.Tensor]:
        """The backward flow and mask resampled to ``size`` (H, W)."""
        h, w = self.back.shape[:2]
        if tuple(size) == (h, w):
            return self.back, self.mask
        cv2 = _cv2()
        sy, sx = size[0] / h, size[1] / w
        flow = cv2.resize(self.back, (size[1], size[0]), interpolation=cv2.INTER_LINEAR)
        flow = flow * np.array([sx, sy], dtype=np.float32)
        mask = torch.nn.functional.interpolate(self.mask, size=tuple(size), mode="nearest")
        return flow, mask


def warping_error(outputs: list[torch.Tensor], inputs: list[torch.Tensor],
                  preset: str = "medium") -> float:  # fmt: skip
    """Lai et al. 2018's warping error of ``outputs`` (each ``(1, C, H, W)`` in [0, 1]) with
    the flow of ``inputs`` (the frames they came from), absolute difference, in [0, 1] units
    (multiply by 255 for grey levels)."""
    if len(outputs) != len(inputs) or len(outputs) < 2:
        raise ValueError("need at least two frames, as many outputs as inputs")
    errors = []
    for t in range(1, len(outputs)):
        pair = FlowPair(grey_u8(inputs[t - 1]), grey_u8(inputs[t]), preset)
        warped, mask = pair.warp_previous(outputs[t - 1])
        diff = (outputs[t] - warped).abs().mean(1, keepdim=True)
        errors.append(float((diff * mask).sum() / mask.sum().clamp_min(1.0)))
    return float(np.mean(errors))

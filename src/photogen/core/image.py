"""Reading and writing image files: the only module that touches files of pixels.

Every image crosses the API as a torch tensor ``(1, 3, H, W)`` float32 sRGB in ``[0, 1]``
(``(1, 4, H, W)`` with alpha where asked). Anything that cannot be read raises
:class:`ImageError` naming the file and the reason, never a bare Pillow exception.
"""

from __future__ import annotations

import glob
import os
import struct
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageOps, UnidentifiedImageError

from photogen.core import provenance
from photogen.core.atomic import atomic_path

#: Default decompression-bomb guard: 200 megapixels (a 16k x 12k photo still opens).
DEFAULT_MAX_PIXELS = 200_000_000

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".webp", ".gif", ".pat", ".ppm"}
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


class ImageError(Exception):
    """An image file could not be read or written; the message names the file and why."""

    def __init__(self, path: str | os.PathLike, reason: str):
        self.path = str(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")


@dataclass(frozen=True)
class ImageInfo:
    """What :func:`read_image_info` learned about a file besides its pixels."""

    width: int
    height: int
    bit_depth: int  # 8 or 16 (32 for float TIFF)
    has_alpha: bool
    format: str


def _png_bit_depth(path: Path) -> int | None:
    with open(path, "rb") as f:
        head = f.read(26)
    if len(head) >= 26 and head[:8] == _PNG_SIGNATURE:
        return head[24]
    return None


def _read_png16(path: Path) -> np.ndarray:
    """16-bit PNG through pypng (Pillow truncates 16-bit RGB to 8 bits). Returns HxWxC float."""
    import png

    try:
        width, height, rows, info = png.Reader(filename=str(path)).asDirect()
        arr = np.vstack([np.asarray(row, dtype=np.uint16) for row in rows])
    except (png.Error, ValueError, OSError, EOFError) as exc:
        raise ImageError(path, f"corrupt or truncated 16-bit PNG ({exc})") from None
    planes = info["planes"]
    arr = arr.reshape(height, width, planes).astype(np.float32)
    return arr / float(2 ** info["bitdepth"] - 1)


def _read_tiff_deep(path: Path) -> np.ndarray | None:
    """TIFF with more than 8 bits per sample through tifffile; None for plain 8-bit TIFF."""
    import tifffile

    try:
        with tifffile.TiffFile(path) as tif:
            page = tif.pages[0]
            if page.dtype is None or page.dtype.itemsize == 1:
                return None
            arr = page.asarray()
    except Exception as exc:  # tifffile raises many types for corrupt files
        raise ImageError(path, f"corrupt TIFF ({exc})") from None
    if arr.ndim == 2:
        arr = arr[..., None]
    if arr.ndim != 3:
        raise ImageError(path, f"unsupported TIFF layout with shape {arr.shape}")
    if arr.shape[0] in (3, 4) and arr.shape[-1] not in (3, 4):  # planar to interleaved
        arr = np.moveaxis(arr, 0, -1)
    if np.issubdtype(arr.dtype, np.integer):
        return arr.astype(np.float32) / float(np.iinfo(arr.dtype).max)
    return np.clip(arr.astype(np.float32), 0.0, 1.0)


def _read_gimp_pattern(path: Path, max_pixels: int) -> np.ndarray | None:
    """GIMP ``.pat`` pattern (header + raw 8-bit pixels), or None if the file is not one.

    Header, big-endian: header size, version, width, height, bytes per pixel (1-4), the magic
    ``GPAT``, then the pattern's name up to the header size.
    """
    with open(path, "rb") as f:
        head = f.read(24)
        if len(head) < 24 or head[20:24] != b"GPAT":
            return None
        header_size, _version, width, height, bpp = struct.unpack(">5I", head[:20])
        if bpp not in (1, 2, 3, 4) or header_size < 24 or width * height == 0:
            raise ImageError(path, f"corrupt GIMP pattern header ({width}x{height}x{bpp})")
        if width * height > max_pixels:
            raise ImageError(path, f"{width}x{height} pixels exceeds the limit of {max_pixels:,}")
        f.seek(header_size)
        data = f.read(width * height * bpp)
    if len(data) != width * height * bpp:
        raise ImageError(path, "truncated GIMP pattern (fewer pixel bytes than the header says)")
    return np.frombuffer(data, np.uint8).reshape(height, width, bpp).astype(np.float32) / 255.0


def _pil_to_array(img: Image.Image) -> np.ndarray:
    """Any Pillow mode to an HxWxC float32 array in [0, 1] with C in {1, 2, 3, 4}."""
    mode = img.mode
    if mode in ("I;16", "I;16B", "I;16L", "I;16N", "I"):
        arr = np.asarray(img, dtype=np.float32)
        # Pillow opens 16-bit greyscale as I or I;16; values are 0..65535.
        return (np.clip(arr, 0, 65535) / 65535.0)[..., None]
    if mode == "F":
        return np.clip(np.asarray(img, dtype=np.float32), 0.0, 1.0)[..., None]
    has_alpha = mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in img.info
    if has_alpha:
        img = img.convert("RGBA")
    elif mode != "RGB":
        # Covers 1, L, P, CMYK, YCbCr, LAB, HSV, RGBX.
        img = img.convert("RGB")
    return np.asarray(img, dtype=np.float32) / 255.0


def _to_rgb(arr: np.ndarray, keep_alpha: bool) -> np.ndarray:
    channels = arr.shape[-1]
    if channels in (1, 2):  # grey (+ alpha)
        grey = np.repeat(arr[..., :1], 3, axis=-1)
        arr = np.concatenate([grey, arr[..., 1:]], axis=-1)
    if arr.shape[-1] == 4:
        if keep_alpha:
            return arr
        rgb, alpha = arr[..., :3], arr[..., 3:]
        return rgb * alpha + (1.0 - alpha)  # composite on white
    if arr.shape[-1] != 3:
        raise ValueError(f"unexpected channel count {arr.shape[-1]}")
    if keep_alpha:
        return np.concatenate([arr, np.ones_like(arr[..., :1])], axis=-1)
    return arr


def _open_checked(path: Path, max_pixels: int) -> Image.Image:
    if not path.exists():
        raise ImageError(path, "no such file")
    if path.is_dir():
        raise ImageError(path, "is a directory, not an image file")
    if path.stat().st_size == 0:
        raise ImageError(path, "empty file (0 bytes)")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(path)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageError(path, "too many pixels (possible decompression bomb)") from None
    except UnidentifiedImageError:
        raise ImageError(path, "not an image file (format not recognised)") from None
    except OSError as exc:
        raise ImageError(path, f"cannot open ({exc})") from None
    w, h = img.size
    if w * h > max_pixels:
        img.close()
        raise ImageError(
            path,
            f"{w}x{h} = {w * h:,} pixels exceeds the limit of {max_pixels:,} "
            "(decompression-bomb guard; raise max_pixels if the file is trusted)",
        )
    return img


def read_image_info(
    path: str | os.PathLike, keep_alpha: bool = False, max_pixels: int = DEFAULT_MAX_PIXELS
) -> tuple[torch.Tensor, ImageInfo]:
    """Read an image file and describe it.

    Args:
        path: image file (PNG, JPEG, TIFF, WebP, BMP, GIF, GIMP .pat, ...).
        keep_alpha: return ``(1, 4, H, W)`` with the alpha channel (opaque images get alpha
            1); otherwise transparent pixels are composited on white.
        max_pixels: refuse images with more pixels than this (decompression-bomb guard).

    Returns:
        ``(image, info)``: image is ``(1, 3, H, W)`` (or 4 channels) float32 sRGB in
        ``[0, 1]`` with the EXIF orientation applied.

    Raises:
        ImageError: missing, empty, a directory, not an image, truncated, too large.
    """
    path = Path(path)
    if path.is_file() and path.suffix.lower() == ".pat":
        arr = _read_gimp_pattern(path, max_pixels)
        if arr is not None:
            return _finish(
                arr,
                keep_alpha,
                ImageInfo(arr.shape[1], arr.shape[0], 8, arr.shape[-1] in (2, 4), "GPAT"),
            )
    img = _open_checked(path, max_pixels)
    fmt = img.format or path.suffix.lstrip(".").upper()
    arr = None
    bit_depth = 8
    try:
        if _png_bit_depth(path) == 16:
            arr, bit_depth = _read_png16(path), 16
            # pypng ignores EXIF; 16-bit PNGs with orientation tags are vanishingly rare.
        elif fmt == "TIFF":
            arr = _read_tiff_deep(path)
            if arr is not None:
                bit_depth = 16
        if arr is None:
            img = ImageOps.exif_transpose(img)
            img.load()
            if img.mode in ("I;16", "I;16B", "I;16L", "I;16N", "I"):
                bit_depth = 16
            arr = _pil_to_array(img)
    except ImageError:
        raise
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise ImageError(path, f"corrupt or truncated image data ({exc})") from None
    finally:
        img.close()
    info = ImageInfo(arr.shape[1], arr.shape[0], bit_depth, arr.shape[-1] in (2, 4), fmt)
    return _finish(arr, keep_alpha, info)


def _finish(arr: np.ndarray, keep_alpha: bool, info: ImageInfo) -> tuple[torch.Tensor, ImageInfo]:
    arr = _to_rgb(arr, keep_alpha)
    tensor = torch.from_numpy(np.ascontiguousarray(arr.transpose(2, 0, 1)))[None].float()
    return tensor.clamp_(0.0, 1.0), info


def read_image(
    path: str | os.PathLike, keep_alpha: bool = False, max_pixels: int = DEFAULT_MAX_PIXELS
) -> torch.Tensor:
    """Read an image file as ``(1, 3, H, W)`` float32 sRGB in ``[0, 1]``.

    See :func:`read_image_info` for the arguments and errors.
    """
    return read_image_info(path, keep_alpha=keep_alpha, max_pixels=max_pixels)[0]


def _check_tensor(image: torch.Tensor) -> np.ndarray:
    if not isinstance(image, torch.Tensor):
        raise ValueError(f"expected a torch.Tensor, got {type(image).__name__}")
    if image.dim() == 4:
        if image.shape[0] != 1:
            raise ValueError(f"save_image takes one image, got a batch of {image.shape[0]}")
        image = image[0]
    if image.dim() != 3 or image.shape[0] not in (1, 3, 4):
        raise ValueError(
            f"expected (1, C, H, W) or (C, H, W) with C in 1/3/4, got {tuple(image.shape)}"
        )
    arr = image.detach().to("cpu", torch.float32).numpy()
    if not np.isfinite(arr).all():
        raise ValueError("image contains NaN or infinite values")
    return np.clip(arr.transpose(1, 2, 0), 0.0, 1.0)


def save_image(
    image: torch.Tensor,
    path: str | os.PathLike,
    bit_depth: int = 8,
    quality: int = 95,
    settings: dict | None = None,
) -> Path:
    """Write an image atomically (temporary file + rename). An 8-bit PNG carries ``settings``
    (or what :func:`photogen.core.provenance.set_provenance` set) in its ``photogen`` chunk.

    Args:
        image: ``(1, C, H, W)`` or ``(C, H, W)`` float in ``[0, 1]``, C in {1, 3, 4};
            values outside ``[0, 1]`` are clipped.
        path: output file; the format follows the suffix (.png, .jpg, .tif, .webp, .bmp).
        bit_depth: 8, or 16 for PNG and TIFF.
        quality: JPEG/WebP quality.

    Returns:
        The path written.
    """
    path = Path(path)
    arr = _check_tensor(image)
    suffix = path.suffix.lower()
    if suffix not in IMAGE_SUFFIXES - {".pat", ".gif"}:
        raise ValueError(f"{path}: unsupported output format {suffix!r}")
    if bit_depth not in (8, 16):
        raise ValueError(f"bit_depth must be 8 or 16, got {bit_depth}")
    if bit_depth == 16 and suffix not in (".png", ".tif", ".tiff"):
        raise ValueError(f"{path}: 16-bit output needs .png or .tif, not {suffix}")
    if suffix in (".jpg", ".jpeg") and arr.shape[-1] == 4:
        arr = arr[..., :3] * arr[..., 3:] + (1.0 - arr[..., 3:])
    with atomic_path(path) as tmp:
        if bit_depth == 16:
            data = np.round(arr * 65535.0).astype(np.uint16)
            if suffix == ".png":
                import png

                h, w, c = data.shape
                mode = {1: "L", 3: "RGB", 4: "RGBA"}[c] + ";16"
                png.from_array(data.reshape(h, w * c), mode).save(str(tmp))
            else:
                import tifffile

                tifffile.imwrite(tmp, data[..., 0] if data.shape[-1] == 1 else data)
        else:
            data = np.round(arr * 255.0).astype(np.uint8)
            pil = Image.fromarray(data[..., 0] if data.shape[-1] == 1 else data)
            kwargs = {"quality": quality} if suffix in (".jpg", ".jpeg", ".webp") else {}
            recorded = settings if settings is not None else provenance.current()
            if suffix == ".png" and recorded:
                kwargs["pnginfo"] = provenance.png_info(recorded)
            pil.save(tmp, **kwargs)
    return path


def list_images(inputs: str | os.PathLike | list, recursive: bool = False) -> list[Path]:
    """Expand files, directories and glob patterns into a sorted list of paths.

    Directories contribute the files with an image suffix; explicit files are kept whatever
    their suffix (so that a bad file is reported rather than silently skipped). A pattern or
    path that matches nothing is kept as is, so that the caller reports it.
    """
    if isinstance(inputs, str | os.PathLike):
        inputs = [inputs]
    out: list[Path] = []
    for item in inputs:
        p = Path(item)
        if p.is_dir():
            pattern = "**/*" if recursive else "*"
            out.extend(
                sorted(
                    f for f in p.glob(pattern) if f.is_file() and f.suffix.lower() in IMAGE_SUFFIXES
                )
            )
        elif any(ch in str(item) for ch in "*?["):
            matches = sorted(Path(m) for m in glob.glob(str(item), recursive=recursive))
            out.extend(matches if matches else [p])
        else:
            out.append(p)
    return out


def decode_image(
    data: bytes,
    name: str = "upload",
    max_pixels: int = DEFAULT_MAX_PIXELS,
    min_side: int = 1,
    keep_alpha: bool = False,
) -> torch.Tensor:
    """Decode image bytes (an upload) as ``(1, 3, H, W)`` float32 sRGB in ``[0, 1]``.

    The same checks as :func:`read_image` (decompression-bomb guard, truncated data, not an
    image), with ``name`` standing for the path in messages; alpha is composited on white, or
    kept as a fourth channel with ``keep_alpha`` (1 where the image has none).

    Raises:
        ImageError: empty, not an image, truncated, too many pixels, a side below ``min_side``.
    """
    import io

    if not data:
        raise ImageError(name, "empty file (0 bytes)")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(data))
            w, h = img.size
            if w * h > max_pixels:
                raise ImageError(
                    name, f"{w}x{h} = {w * h:,} pixels exceeds the limit of {max_pixels:,}"
                )
            if min(w, h) < min_side:
                raise ImageError(name, f"{w}x{h} is too small (at least {min_side} px a side)")
            img = ImageOps.exif_transpose(img)
            img.load()
    except ImageError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageError(name, "too many pixels (possible decompression bomb)") from None
    except UnidentifiedImageError:
        raise ImageError(name, "not an image file (format not recognised)") from None
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise ImageError(name, f"corrupt or truncated image data ({exc})") from None
    arr = _pil_to_array(img)
    return _finish(arr, keep_alpha, ImageInfo(w, h, 8, False, img.format or "?"))[0]


def encode_png(image: torch.Tensor, compress_level: int = 1, settings: dict | None = None) -> bytes:
    """``(1, C, H, W)`` or ``(C, H, W)`` in ``[0, 1]`` as 8-bit PNG bytes (fast compression),
    with ``settings`` in the ``photogen`` text chunk when given (the studio's results)."""
    import io

    arr = _check_tensor(image)
    data = np.round(arr * 255.0).astype(np.uint8)
    buf = io.BytesIO()
    extra = {"pnginfo": provenance.png_info(settings)} if settings else {}
    Image.fromarray(data[..., 0] if data.shape[-1] == 1 else data).save(
        buf, format="PNG", compress_level=compress_level, **extra
    )
    return buf.getvalue()


def encode_jpeg(image: torch.Tensor, quality: int = 85) -> bytes:
    """``(1, 3, H, W)`` or ``(3, H, W)`` in ``[0, 1]`` as JPEG bytes (the Live tab's frames)."""
    import io

    data = np.round(_check_tensor(image) * 255.0).astype(np.uint8)
    buf = io.BytesIO()
    Image.fromarray(data[..., 0] if data.shape[-1] == 1 else data).save(
        buf, format="JPEG", quality=quality
    )
    return buf.getvalue()

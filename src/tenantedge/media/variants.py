"""Width variants of a tenant's raster images: which widths an image gets, what they are called, and making them.

A JPEG, PNG or WebP wider than a variant width gets a WebP of that width (1600, 960, 480: never wider than the
original), named under the original's digest: `{sha256}-{width}w.webp`, so the names follow from the library's
width alone and never change. They are decoded once, at the smallest size the largest variant allows (JPEG's
draft mode decodes a 12-megapixel photo at half or a quarter of its size), turned upright by its EXIF
orientation, and each width is made from the one before it, largest first. No metadata is copied but the colour
profile. Other kinds (GIF, AVIF, ICO, SVG, fonts) are served as uploaded.
"""

from __future__ import annotations

import io
import re
import warnings
from dataclasses import dataclass

from PIL import Image, ImageOps, ImageSequence

from tenantedge.media.kinds import EXIF_ORIENTATION, TURNED

WIDTHS = (1600, 960, 480)  # largest first: each is made from the one before it
QUALITY = 80
RESPONSIVE = frozenset({"jpg", "png", "webp"})
VARIANT_ID = re.compile(r"([0-9a-f]{64})-([1-9][0-9]{0,4})w\.webp\Z")


@dataclass(frozen=True, slots=True)
class Variant:
    width: int
    height: int
    data: bytes


def variant_id(digest: str, width: int) -> str:
    return f"{digest}-{width}w.webp"


def every_variant(asset: str) -> tuple[str, ...]:
    """The names any variant of an asset could have: what to delete, and forget, with it."""
    digest = asset.split(".", 1)[0]
    return tuple(variant_id(digest, width) for width in WIDTHS) if asset.rsplit(".", 1)[-1] in RESPONSIVE else ()


def parse_variant(name: str) -> tuple[str, int] | None:
    """(the original's digest, the width) a variant's name says, or None when it names no variant."""
    found = VARIANT_ID.match(name)
    return (found.group(1), int(found.group(2))) if found else None


def variant_widths(asset: str, width: int | None) -> tuple[int, ...]:
    """The widths an asset gets variants at, largest first: none for other kinds, none wider than it is."""
    ext = asset.rsplit(".", 1)[-1]
    if ext not in RESPONSIVE or width is None:
        return ()
    return tuple(each for each in WIDTHS if each < width)


def scaled_height(width: int, height: int, to: int) -> int:
    """The height of a `to`-wide variant of a `width` x `height` image: the aspect kept, at least a pixel."""
    return max(round(height * to / width), 1)


def make_variants(data: bytes, widths: tuple[int, ...]) -> list[Variant]:
    """WebP variants of an image at `widths` (largest first), from its bytes. CPU-bound: run it in a thread."""
    if not widths:
        return []
    with warnings.catch_warnings():
        # The upload checked the pixel count against TENANTEDGE_MAX_IMAGE_PIXELS already.
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        with Image.open(io.BytesIO(data)) as image:
            if getattr(image, "n_frames", 1) > 1:
                return _animated(image, widths)
            return _still(image, widths)


def _still(image: Image.Image, widths: tuple[int, ...]) -> list[Variant]:
    turned = image.getexif().get(EXIF_ORIENTATION) in TURNED
    width, height = (image.height, image.width) if turned else image.size
    largest = (widths[0], scaled_height(width, height, widths[0]))
    # JPEG only: decode at 1/2, 1/4 or 1/8 of the size while that still covers the largest variant.
    image.draft("RGB", (largest[1], largest[0]) if turned else largest)
    ImageOps.exif_transpose(image, in_place=True)  # no copy: a 12 MP photo is 36 MB, even drafted 9 MB
    mode = "RGBA" if _has_alpha(image) else "RGB"
    # The colour profile goes with the pixels only when they keep their mode (a CMYK or grey one fits no RGB).
    icc = image.info.get("icc_profile") if image.mode == mode else None
    current = image if image.mode == mode else image.convert(mode)
    variants = []
    for each in widths:
        current = current.resize((each, scaled_height(width, height, each)), Image.Resampling.LANCZOS)
        out = io.BytesIO()
        current.save(out, format="WEBP", quality=QUALITY, icc_profile=icc)
        variants.append(Variant(current.width, current.height, out.getvalue()))
    return variants


def _animated(image: Image.Image, widths: tuple[int, ...]) -> list[Variant]:
    # Each frame, at each width: an animation stays one, smaller.
    frames = [frame.convert("RGBA") for frame in ImageSequence.Iterator(image)]
    durations = [int(frame.info.get("duration", 100)) for frame in ImageSequence.Iterator(image)]
    width, height = frames[0].size
    variants = []
    for each in widths:
        size = (each, scaled_height(width, height, each))
        frames = [frame.resize(size, Image.Resampling.LANCZOS) for frame in frames]
        out = io.BytesIO()
        frames[0].save(
            out, format="WEBP", quality=QUALITY, save_all=True, append_images=frames[1:], duration=durations, loop=0
        )
        variants.append(Variant(size[0], size[1], out.getvalue()))
    return variants


def _has_alpha(image: Image.Image) -> bool:
    return image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info)

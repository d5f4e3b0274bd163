"""What an uploaded file is, told by its bytes (never its name or declared type), and whether it may be stored.

The allowlist: PNG, JPEG, GIF, WebP, AVIF, ICO, SVG, WOFF2 and WOFF. Raster images are opened with Pillow, which
reads only the header, so their size is known before any pixel is decoded: a decompression bomb is refused
unopened. An SVG is parsed with no DTD (no entities to expand) and refused when it could run script.
"""

from __future__ import annotations

import io
import re
import warnings
import xml.etree.ElementTree as ET
from dataclasses import dataclass

from PIL import Image, UnidentifiedImageError

from tenantedge.errors import AssetRefused


@dataclass(frozen=True, slots=True)
class Kind:
    ext: str
    content_type: str
    pillow: str | None = None  # the format Pillow must find, for raster images


PNG = Kind("png", "image/png", "PNG")
JPEG = Kind("jpg", "image/jpeg", "JPEG")
GIF = Kind("gif", "image/gif", "GIF")
WEBP = Kind("webp", "image/webp", "WEBP")
AVIF = Kind("avif", "image/avif", "AVIF")
ICO = Kind("ico", "image/x-icon", "ICO")
SVG = Kind("svg", "image/svg+xml")
WOFF2 = Kind("woff2", "font/woff2")
WOFF = Kind("woff", "font/woff")
KINDS = {kind.ext: kind for kind in (PNG, JPEG, GIF, WEBP, AVIF, ICO, SVG, WOFF2, WOFF)}
ALLOWED = ", ".join(sorted(kind.ext for kind in KINDS.values()))

_SVG_NS = "{http://www.w3.org/2000/svg}"
# Elements that run script or embed another document: an SVG holding one is refused.
_ACTIVE = {"script", "foreignobject", "iframe", "embed", "object", "handler", "listener"}
_SCHEMES = re.compile(r"(?:javascript:|vbscript:|data:text/html)", re.IGNORECASE)
_INVISIBLE = re.compile(r"[\x00-\x20]+")
EXIF_ORIENTATION = 0x0112
TURNED = frozenset({5, 6, 7, 8})  # EXIF orientations that swap width and height
_LENGTH = re.compile(r"\s*([0-9]+(?:\.[0-9]+)?)\s*(?:px)?\s*\Z")


@dataclass(frozen=True, slots=True)
class Inspected:
    """An accepted file: its kind and, for images whose header says, its width and height in pixels."""

    kind: Kind
    width: int | None = None
    height: int | None = None


def sniff(data: bytes) -> Kind | None:
    """The kind the file's first bytes announce, or None for anything outside the allowlist."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if data.startswith(b"\xff\xd8\xff"):
        return JPEG
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return GIF
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return WEBP
    if data[4:8] == b"ftyp" and data[8:12] in (b"avif", b"avis"):
        return AVIF
    if data[:4] == b"\x00\x00\x01\x00":
        return ICO
    if data[:4] == b"wOF2":
        return WOFF2
    if data[:4] == b"wOFF":
        return WOFF
    if _looks_like_svg(data):
        return SVG
    return None


def inspect(data: bytes, *, max_pixels: int) -> Inspected:
    """The file's kind and dimensions; AssetRefused (415: not on the allowlist, 422: malformed, an absurd size or
    an SVG that could run script) saying why."""
    kind = sniff(data)
    if kind is None:
        raise AssetRefused(415, f"not a file type tenants may upload; allowed: {ALLOWED} (told by content, not name)")
    if kind is SVG:
        return _inspect_svg(data, max_pixels)
    if kind.pillow is None:
        return Inspected(kind)
    return _inspect_raster(data, kind, kind.pillow, max_pixels)


def _inspect_raster(data: bytes, kind: Kind, pillow: str, max_pixels: int) -> Inspected:
    try:
        with warnings.catch_warnings():
            # Pillow warns (tests: raises) of a large image on open; the limit below is the one that decides.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=[pillow]) as image:
                width, height = image.size
                frames = int(getattr(image, "n_frames", 1))
                _check_pixels(width, height, frames, max_pixels)
                # The size it is shown at: a photo taken sideways says so in its EXIF orientation (read from the
                # header of a JPEG or WebP; a PNG's may follow its pixels, and is not looked for).
                if kind in (JPEG, WEBP) and image.getexif().get(EXIF_ORIENTATION) in TURNED:
                    width, height = height, width
                image.verify()  # structure and checksums, without decoding the pixels
    except AssetRefused:
        raise
    except Image.DecompressionBombError as e:
        raise AssetRefused(422, f"the image is too large to decode safely ({e})") from e
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError) as e:
        raise AssetRefused(422, f"a malformed {kind.ext.upper()} file: {e}") from e
    return Inspected(kind, width, height)


def _check_pixels(width: int, height: int, frames: int, max_pixels: int) -> None:
    if width < 1 or height < 1:
        raise AssetRefused(422, f"the image claims {width}x{height} pixels")
    if width * height * max(frames, 1) > max_pixels:
        shown = f"{width}x{height}" + (f" x {frames} frames" if frames > 1 else "")
        raise AssetRefused(
            422, f"the image is {shown} pixels; the limit is {max_pixels:,} (TENANTEDGE_MAX_IMAGE_PIXELS)"
        )


def _looks_like_svg(data: bytes) -> bool:
    head = data[:1024].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    return head.startswith((b"<?xml", b"<svg", b"<!--")) and b"<svg" in data[:4096].lower()


def _inspect_svg(data: bytes, max_pixels: int) -> Inspected:
    lowered = data.lower()
    # No DTD at all: entities are how an XML file grows a billion laughs, or reads a local file.
    if b"<!doctype" in lowered or b"<!entity" in lowered:
        raise AssetRefused(422, "an SVG with a DOCTYPE or ENTITY declaration is refused")
    try:
        root = ET.fromstring(data)  # noqa: S314 (no DTD, so no entity expansion: refused above)
    except ET.ParseError as e:
        raise AssetRefused(422, f"a malformed SVG file: {e}") from e
    if root.tag not in (f"{_SVG_NS}svg", "svg"):
        raise AssetRefused(415, f"an XML file whose root is {root.tag!r}, not an SVG <svg> element")
    for element in root.iter():
        name = _local(element.tag).lower()
        if name in _ACTIVE:
            raise AssetRefused(422, f"an SVG with a <{_local(element.tag)}> element could run script; remove it")
        for attribute, value in element.attrib.items():
            local = _local(attribute).lower()
            if local.startswith("on"):
                raise AssetRefused(422, f"an SVG with an event handler ({_local(attribute)}=) could run script")
            if _SCHEMES.match(_INVISIBLE.sub("", value)):
                raise AssetRefused(422, f"an SVG linking to {value[:40]!r} ({_local(attribute)}=) could run script")
    width, height = _length(root.get("width")), _length(root.get("height"))
    if width is not None and height is not None:
        _check_pixels(width, height, 1, max_pixels)
    return Inspected(SVG, width, height)


def _local(name: str) -> str:
    return name.rsplit("}", 1)[-1]


def _length(value: str | None) -> int | None:
    found = _LENGTH.match(value) if value is not None else None
    return round(float(found.group(1))) if found else None

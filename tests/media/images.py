"""Small real files of every kind, made with Pillow, and hostile ones, for the media tests."""

from __future__ import annotations

import io
import struct
import zlib

from PIL import Image


def raster(fmt: str, size: tuple[int, int] = (4, 3), color: tuple[int, int, int] = (200, 30, 30)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, format=fmt)
    return out.getvalue()


def png(size: tuple[int, int] = (4, 3), color: tuple[int, int, int] = (200, 30, 30)) -> bytes:
    return raster("PNG", size, color)


def png_bomb(width: int = 100_000, height: int = 100_000) -> bytes:
    """A valid PNG header claiming a huge image, with a tiny compressed body: what a decompression bomb looks like
    before anything is decoded."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    body = zlib.compress(b"\x00" * 1024, 9)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", body) + chunk(b"IEND", b"")


SVG = b'<svg xmlns="http://www.w3.org/2000/svg" width="24" height="24"><circle cx="12" cy="12" r="10"/></svg>'
SVG_SCRIPT = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(document.domain)</script></svg>'
HTML = b"<!doctype html><html><body><script>alert(1)</script></body></html>"
WOFF2 = b"wOF2\x00\x01\x00\x00" + b"\x00" * 40


def photo(size: tuple[int, int], *, orientation: int | None = None, fmt: str = "JPEG") -> bytes:
    """A gradient photo, its left half reddish and its right half bluish (as stored, before any EXIF turn)."""
    width, height = size
    image = Image.new("RGB", size, (220, 40, 40))
    image.paste(Image.new("RGB", (width - width // 2, height), (40, 40, 220)), (width // 2, 0))
    out = io.BytesIO()
    exif = Image.Exif()
    if orientation is not None:
        exif[0x0112] = orientation
    image.save(out, format=fmt, exif=exif)
    return out.getvalue()


def animated_png(size: tuple[int, int], frames: int) -> bytes:
    shots = [Image.new("RGBA", size, (40 * index, 90, 200, 255)) for index in range(frames)]
    out = io.BytesIO()
    shots[0].save(out, format="PNG", save_all=True, append_images=shots[1:], duration=80, loop=0)
    return out.getvalue()

"""What an upload is, told by its bytes: the allowlist, dimensions, decompression bombs and scripted SVG."""

from __future__ import annotations

import pytest

from tenantedge.errors import AssetRefused
from tenantedge.media.kinds import AVIF, GIF, ICO, JPEG, PNG, SVG, WEBP, WOFF2, Kind, inspect, sniff
from tests.media import images

LIMIT = 40_000_000
NS = b'xmlns="http://www.w3.org/2000/svg"'


@pytest.mark.parametrize(
    ("data", "kind", "size"),
    [
        (images.png((4, 3)), PNG, (4, 3)),
        (images.raster("JPEG", (5, 2)), JPEG, (5, 2)),
        (images.raster("GIF", (3, 3)), GIF, (3, 3)),
        (images.raster("WEBP", (6, 4)), WEBP, (6, 4)),
        (images.raster("AVIF", (8, 8)), AVIF, (8, 8)),
        (images.raster("ICO", (16, 16)), ICO, (16, 16)),
        (images.SVG, SVG, (24, 24)),
        (images.WOFF2, WOFF2, (None, None)),
    ],
    ids=["png", "jpeg", "gif", "webp", "avif", "ico", "svg", "woff2"],
)
def test_allowed_kinds_are_told_by_their_bytes(data: bytes, kind: Kind, size: tuple[int | None, int | None]) -> None:
    found = inspect(data, max_pixels=LIMIT)
    assert found.kind is kind
    assert (found.width, found.height) == size


@pytest.mark.parametrize(
    ("data", "status", "words"),
    [
        (images.HTML, 415, "not a file type"),
        (b"%PDF-1.7\n", 415, "not a file type"),
        (b"MZ\x90\x00", 415, "not a file type"),
        (images.png_bomb(10_000, 10_000), 422, "10000x10000 pixels; the limit is 40,000,000"),
        (images.png_bomb(100_000, 100_000), 422, "too large to decode"),
        (images.png((4, 3))[:40], 422, "malformed PNG"),
        (images.SVG_SCRIPT, 422, "<script>"),
        (b"<svg " + NS + b'><rect onload="alert(1)"/></svg>', 422, "onload="),
        (b"<svg " + NS + b'><a href=" java\tscript:alert(1)"><text>x</text></a></svg>', 422, "href="),
        (b"<svg " + NS + b'><foreignObject><p>x</p></foreignObject></svg>', 422, "foreignObject"),
        (b'<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY a "aaaa">]><svg>&a;</svg>', 422, "DOCTYPE"),
        (b"<svg xmlns='http://www.w3.org/2000/svg'><g></svg>", 422, "malformed SVG"),
        (b'<svg xmlns="http://www.w3.org/2000/svg" width="100000" height="100000"/>', 422, "pixels"),
    ],
    ids=[
        "html", "pdf", "exe", "decompression-bomb", "decompression-bomb-beyond-pillow", "truncated-png",
        "svg-script", "svg-onload", "svg-javascript-href",
        "svg-foreign-object", "svg-entities", "svg-malformed", "svg-absurd-size",
    ],
)  # fmt: skip
def test_refused_uploads_say_why(data: bytes, status: int, words: str) -> None:
    with pytest.raises(AssetRefused) as refused:
        inspect(data, max_pixels=LIMIT)
    assert refused.value.status == status
    assert words in str(refused.value)


def test_the_name_and_declared_type_play_no_part() -> None:
    # A PNG is a PNG whatever it is called; sniff sees only bytes.
    assert sniff(images.png()) is PNG
    assert sniff(images.HTML) is None


def test_many_frames_count_towards_the_pixel_limit() -> None:
    with pytest.raises(AssetRefused, match="frames"):
        inspect(_animated_gif(frames=5, size=(100, 100)), max_pixels=40_000)


def _animated_gif(frames: int, size: tuple[int, int]) -> bytes:
    import io

    from PIL import Image

    out = io.BytesIO()
    first, *rest = [Image.new("RGB", size, (index * 40, 0, 0)) for index in range(frames)]
    first.save(out, format="GIF", save_all=True, append_images=rest)
    return out.getvalue()

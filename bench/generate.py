"""Generate a tenants document of N sites for load tests: `python bench/generate.py 10000 > tenants.json`.

Site i answers on `site{i}.example` and `www.site{i}.example`; its home page has six sections, two of them
with props of its own, the rest shared defaults (as most real sites are).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import orjson


def host_of(number: int) -> str:
    return f"site{number}.example"


def generate_tenants(count: int) -> dict[str, Any]:
    tenants: dict[str, Any] = {}
    for number in range(count):
        tenants[f"site{number}"] = {
            "name": f"Site {number}",
            "domains": [host_of(number), f"www.{host_of(number)}"],
            "features": {"blog": True},
            "theme": {
                "preset": "dark" if number % 2 else "light",
                "colors": {"primary": f"#{(number * 2654435761) % 0xFFFFFF:06x}"},
            },
            "pages": {
                "/": [
                    {
                        "type": "Hero",
                        "props": {
                            "title": f"Welcome to site {number}",
                            "subtitle": "We build things.",
                            "primary_label": "Start",
                            "primary_href": "/about",
                        },
                    },
                    {"type": "Features", "props": {"style": "grid"}},
                    {"type": "Services", "props": {}},
                    {"type": "Testimonials", "props": {}},
                    {
                        "type": "Blog",
                        "props": {
                            "posts": 3,
                            "items": [
                                {"title": f"Post {k} of site {number}", "excerpt": "Some text."} for k in range(3)
                            ],
                        },
                    },
                    {"type": "CTA", "variant": "banner", "props": {}},
                ],
                "/about": [
                    {"type": "Hero", "variant": "simple", "props": {"title": "About"}},
                    {"type": "Team", "props": {}},
                ],
            },
        }
    return {"tenants": tenants}


def wrk_scripts(folder: Path, tenants: int) -> dict[str, Path]:
    """wrk Lua scripts in `folder` for the generated hosts: one host, random hosts, and every host in turn."""
    scripts = {
        "one": f'wrk.headers["Host"] = "{host_of(1)}"\n',
        "random": (
            f"local count = {tenants}\n"
            "request = function()\n"
            '  return wrk.format("GET", "/", {["Host"] = "site" .. math.random(0, count - 1) .. ".example"})\n'
            "end\n"
        ),
        # Every host once, in order, then again: fills the page cache for every tenant.
        "sweep": (
            f"local count, next = {tenants}, 0\n"
            "request = function()\n"
            "  next = (next + 1) % count\n"
            '  return wrk.format("GET", "/", {["Host"] = "site" .. next .. ".example"})\n'
            "end\n"
        ),
    }
    paths = {}
    for name, text in scripts.items():
        paths[name] = folder / f"{name}.lua"
        paths[name].write_text(text)
    return paths


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    sys.stdout.buffer.write(orjson.dumps(generate_tenants(count)))


if __name__ == "__main__":
    main()

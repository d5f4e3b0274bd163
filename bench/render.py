"""In-process render cost: µs per page for a 6-section page, default and tenant-override templates.

    .venv/bin/python bench/render.py [--seconds 3]

Prints the time per render and the pages per second one core sustains when every request renders.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import orjson

from tenantedge.render.assets import AssetCatalog
from tenantedge.render.folders import TemplateFolders
from tenantedge.render.pages import PageRenderer
from tenantedge.sections import SectionRegistry
from tenantedge.tenants import Tenant, parse_document

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = ROOT / "templates"

SIX_SECTIONS = [
    {"type": "Hero", "props": {"title": "AI Coding", "subtitle": "Ship faster.", "primary_label": "Start"}},
    {"type": "Features", "props": {"style": "grid"}},
    {"type": "Services", "props": {}},
    {"type": "Testimonials", "props": {}},
    {"type": "Blog", "props": {"posts": 3, "items": [{"title": f"Post {n}", "excerpt": "Text."} for n in range(5)]}},
    {"type": "CTA", "variant": "banner", "props": {}},
]


def bench_tenant(registry: SectionRegistry, tenant_id: str) -> Tenant:
    doc = {
        "name": "Bench",
        "domains": [f"{tenant_id}.example"],
        "features": {"blog": True},
        "theme": {"preset": "dark", "colors": {"primary": "#7c3aed"}},
        "pages": {"/": SIX_SECTIONS, "/about": [{"type": "Hero"}]},
    }
    return parse_document(orjson.dumps({"tenants": {tenant_id: doc}}), "bench", registry).tenants[tenant_id]


def measure(renderer: PageRenderer, tenant: Tenant, seconds: float) -> tuple[float, int, int]:
    """Median µs per render over one-second-ish batches, renders done, page size."""
    page = renderer.render_page(tenant, "/")
    assert page is not None
    for _ in range(200):  # warm the template caches
        renderer.render_page(tenant, "/")
    batches: list[float] = []
    done = 0
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        start = time.perf_counter()
        for _ in range(500):
            renderer.render_page(tenant, "/")
        batches.append((time.perf_counter() - start) / 500 * 1e6)
        done += 500
    return statistics.median(batches), done, len(page.html.encode())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0)
    args = parser.parse_args()
    folders = TemplateFolders.find(TEMPLATES)
    registry = SectionRegistry.from_directories(folders.defaults("sections"))
    assets = AssetCatalog.from_directories(folders.defaults("assets"))
    full = PageRenderer(folders, assets, fragment_bytes=0)
    layout_only = PageRenderer(folders, assets, fragment_bytes=16 << 20)
    print(f"{'case':<58} {'µs/page':>9} {'pages/s':>9} {'bytes':>7} {'renders':>8}")
    for label, renderer, tenant_id in [
        ("every section rendered, default templates", full, "benchsite"),
        ("every section rendered, tenant override (codersinflow)", full, "codersinflow"),
        ("sections from the fragment cache, layout rendered", layout_only, "benchsite"),
    ]:
        micros, done, size = measure(renderer, bench_tenant(registry, tenant_id), args.seconds)
        print(f"{label:<58} {micros:>9.1f} {1e6 / micros:>9.0f} {size:>7} {done:>8}")


if __name__ == "__main__":
    main()

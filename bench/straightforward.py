"""A straightforward Starlette + Jinja renderer: the yardstick the hot-path issue set its cold target by.

The issue measured one at about 3,100 pages/s on its machine, and asked tenantedge to render at 5,000 pages/s,
1.6 times that, with nothing but rendered output left uncached. This is such a renderer, on the same tenants,
templates and uvicorn settings, so that the bench can measure both in one run on any machine: a Starlette
route, the host looked up, each section of the page rendered through its template, the layout around them,
an HTMLResponse. Jinja keeps its compiled templates, as any Jinja app does; nothing else is kept.

    TENANTEDGE_TENANTS=tenants.json uvicorn straightforward:app --app-dir bench
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader
from markupsafe import Markup
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, Response
from starlette.routing import Route

from tenantedge.hosts import normalise_host
from tenantedge.render.assets import AssetCatalog
from tenantedge.render.folders import TemplateFolders
from tenantedge.render.pages import NavLink, PageView, SectionView, add_template_helpers
from tenantedge.render.theme import theme_stylesheet
from tenantedge.sections import DEFAULT_VARIANT, SectionRegistry
from tenantedge.settings import Settings
from tenantedge.store.files import load_tenants_file
from tenantedge.tenants import Section

FOLDERS = TemplateFolders.find(Settings.from_env().templates_dir)
REGISTRY = SectionRegistry.from_directories(FOLDERS.defaults("sections"))
TENANTS = load_tenants_file(Path(os.environ.get("TENANTEDGE_TENANTS", "tenants.json")), REGISTRY)
ASSETS = AssetCatalog.from_directories(FOLDERS.defaults("assets"))


def environment(folders: list[Path]) -> Environment:
    # As in production: templates are compiled once and not checked for changes on every use.
    env = Environment(
        loader=FileSystemLoader(folders), autoescape=True, trim_blocks=True, lstrip_blocks=True, auto_reload=False
    )
    add_template_helpers(env, ASSETS)
    return env


SHARED = environment(list(FOLDERS.defaults()))
OWN = {
    tenant_id: environment([*(own for own in FOLDERS.tenant(tenant_id) if own.is_dir()), *FOLDERS.defaults()])
    for tenant_id in FOLDERS.tenant_ids()
}


def label(path: str) -> str:
    return "Home" if path == "/" else path.rsplit("/", 1)[-1].replace("-", " ").replace("_", " ").capitalize()


def render_sections(env: Environment, sections: tuple[Section, ...], prefix: str, base: dict[str, Any]) -> Markup:
    parts = []
    for index, section in enumerate(sections):
        names = [f"sections/{section.type}.html"]
        if section.variant != DEFAULT_VARIANT:
            names.insert(0, f"sections/{section.type}.{section.variant}.html")
        view = SectionView(section.type, section.variant, index, f"{prefix}{index}")
        parts.append(env.select_template(names).render(base, props=section.props, section=view))
    return Markup("\n".join(parts))  # noqa: S704 - each part was autoescaped


async def page(request: Request) -> Response:
    match = TENANTS.hosts.lookup(normalise_host(request.headers.get("host")))
    if match is None:
        return PlainTextResponse("No site here", status_code=404)
    tenant = TENANTS.tenants[match.tenant_id]
    found = tenant.pages.get(request.url.path)
    if found is None:
        return PlainTextResponse("Not found", status_code=404)
    env = OWN.get(tenant.id, SHARED)
    title = found.title or tenant.name
    top = sorted((path for path in tenant.pages if path.count("/") == 1), key=lambda path: (path != "/", path))
    nav = tuple(NavLink(tenant.pages[path].title or label(path), path) for path in top)
    base = {"tenant": tenant, "page": PageView(request.url.path, title), "nav": nav, "blog": None}
    stylesheet = theme_stylesheet(tenant.theme)
    html = env.get_template("layouts/page.html").render(
        base,
        lang=tenant.lang,
        preset=tenant.theme.preset,
        title=title,
        description=found.description or tenant.description,
        theme_url=f"/_edge/theme.css?v={stylesheet.digest}",
        header=render_sections(env, tenant.header, "h", base),
        main=render_sections(env, found.sections, "s", base),
        footer=render_sections(env, tenant.footer, "f", base),
    )
    return HTMLResponse(html)


async def health(request: Request) -> Response:
    return PlainTextResponse("ok")


app = Starlette(routes=[Route("/_edge/health", health), Route("/{path:path}", page)])

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from tenantedge.errors import ConfigError
from tenantedge.render.assets import AssetCatalog
from tenantedge.render.folders import PACKAGED, TemplateFolders
from tenantedge.render.loader import FallbackLoader
from tenantedge.render.pages import PageRenderer
from tenantedge.sections import SectionRegistry
from tenantedge.tenants import parse_document


def write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def test_the_package_carries_every_default() -> None:
    assert (PACKAGED / "default" / "layouts" / "page.html").is_file()
    assert (PACKAGED / "default" / "sections" / "Hero.schema.json").is_file()
    assert (PACKAGED / "default" / "assets" / "base.css").is_file()
    assert not (PACKAGED / "tenants").exists(), "demo tenants' templates stay in the repository's templates/"


@pytest.mark.parametrize(
    ("setting", "working_folder", "expected"),
    [
        (None, False, (PACKAGED,)),
        (None, True, (Path("templates"), PACKAGED)),
        (Path("mine"), True, (Path("mine"), PACKAGED)),
        (PACKAGED, False, (PACKAGED,)),
    ],
    ids=["nothing-set-no-folder", "working-folder", "setting-beats-working-folder", "the-package-itself"],
)
def test_where_templates_are_found(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, setting: Path | None, working_folder: bool, expected: tuple[Path]
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "mine").mkdir()
    if working_folder:
        (tmp_path / "templates").mkdir()
    assert TemplateFolders.find(setting).roots == expected


def test_a_missing_templates_setting_names_the_setting_and_the_path(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere"
    with pytest.raises(ConfigError, match=f"TENANTEDGE_TEMPLATES.*{missing}: templates folder not found"):
        TemplateFolders.find(missing)


@pytest.fixture
def overridden(tmp_path: Path) -> TemplateFolders:
    """A templates folder replacing the default Hero template, base.css and the Footer schema, and adding a type."""
    footer = orjson.loads((PACKAGED / "default" / "sections" / "Footer.schema.json").read_bytes())
    write(
        tmp_path,
        {
            "default/sections/Hero.html": "<section>own hero {{ props.title }}</section>",
            "default/sections/Footer.schema.json": orjson.dumps({**footer, "title": "Own footer"}).decode(),
            "default/sections/Banner.schema.json": '{"props": {"text": {"type": "string"}}}',
            "default/sections/Banner.html": "<aside>{{ props.text }}</aside>",
            "default/assets/base.css": "body { color: red }",
            "default/assets/extra.css": "p { margin: 0 }",
        },
    )
    return TemplateFolders((tmp_path, PACKAGED))


def test_a_default_is_overridden_by_a_file_of_the_same_name(overridden: TemplateFolders) -> None:
    registry = SectionRegistry.from_directories(overridden.defaults("sections"))
    assets = AssetCatalog.from_directories(overridden.defaults("assets"))
    sections = [{"type": "Hero", "props": {"title": "Hi"}}, {"type": "Banner", "props": {"text": "New"}}]
    doc = {"tenants": {"acme": {"domains": ["acme.com"], "pages": {"/": sections}}}}
    tenant = parse_document(orjson.dumps(doc), "test", registry).tenants["acme"]
    page = PageRenderer(overridden, assets).render_page(tenant, "/")
    assert page is not None
    assert "<section>own hero Hi</section>" in page.html and "<aside>New</aside>" in page.html
    assert 'class="te-nav' in page.html, "what is not overridden comes from the package"
    assert "default/sections/Hero.html" in page.templates


def test_schemas_and_assets_are_overridden_or_added_by_name(overridden: TemplateFolders) -> None:
    registry = SectionRegistry.from_directories(overridden.defaults("sections"))
    footer = registry.get("Footer")
    assert footer is not None and footer.title == "Own footer"
    assert "Banner" in registry and "Hero" in registry
    assets = AssetCatalog.from_directories(overridden.defaults("assets"))
    base, extra, hero = assets.get("base.css"), assets.get("extra.css"), assets.get("hero.svg")
    assert base is not None and base.body == b"body { color: red }"
    assert extra is not None and hero is not None


def test_a_template_under_two_roots_is_listed_once(overridden: TemplateFolders) -> None:
    listed = FallbackLoader(overridden).list_templates()
    assert listed.count("_/sections/Hero.html") == 1
    assert "_/sections/Banner.html" in listed and "_/layouts/page.html" in listed

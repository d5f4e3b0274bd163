"""The contact-form plugin through the real app: a fresh database with its migration, a fixed clock, three tenants."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import contact_form
import httpx
import orjson
import pytest
from contact_form.ratelimit import MemoryRateLimit

from tenantedge.app import create_app
from tenantedge.clock import ManualClock
from tenantedge.content.migrate import migrate
from tenantedge.http.edge import EdgeApp
from tenantedge.settings import Settings
from tests.conftest import running
from tests.database import MIGRATIONS, Urls, fresh_database
from tests.plugins.conftest import ADMIN, TOKEN, write_tenants

SUBMIT = "/_edge/plugins/contact-form/submit"
BETA_TOKEN = "beta-editor-token-of-some-length"
SECRET = "contact-form-test-secret-of-some-length"
PLUGIN_MIGRATIONS = {"contact-form": contact_form.manifest.migrations}
SECTION = {"type": "contact-form/Contact", "props": {"title": "Write to us"}}
_FIELD = re.compile(r'<input type="hidden" name="(token|page|section)" value="([^"]*)">')


@pytest.fixture(scope="module")
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="module")
async def urls() -> AsyncIterator[Urls]:
    async with fresh_database() as found:
        await migrate(found.owner, MIGRATIONS, plugins=PLUGIN_MIGRATIONS)
        yield found


@pytest.fixture
async def owner(urls: Urls) -> AsyncIterator[asyncpg.Connection]:
    """The owner's connection, to look at what was stored behind row-level security; every test starts empty."""
    connection = await asyncpg.connect(urls.owner)
    await connection.execute("TRUNCATE contact_form_messages")
    yield connection
    await connection.close()


@pytest.fixture(autouse=True)
def environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TENANTEDGE_CONTACT_FORM_SECRET", SECRET)
    for name in ("TENANTEDGE_CONTACT_FORM_SMTP_URL", "TENANTEDGE_REDIS_URL", "TENANTEDGE_CONTACT_FORM_TOKEN_MAX_AGE"):
        monkeypatch.delenv(name, raising=False)
    # The in-process rate limit is the module's: each test counts from nothing.
    monkeypatch.setattr(contact_form, "_memory", MemoryRateLimit())
    monkeypatch.setattr(contact_form, "_redis_limits", {})


def tenants() -> dict[str, Any]:
    return {
        # Enabled by the tests through the admin API.
        "alpha": {"domains": ["alpha.test"], "aliases": ["www.alpha.test"], "pages": {"/": [{"type": "Hero"}]}},
        "beta": {
            "domains": ["beta.test"],
            "plugins": {"contact-form": {"rate_limit_per_hour": 3}},
            "pages": {"/": [{"type": "Hero"}], "/contact": [SECTION]},
        },
        "plain": {"domains": ["plain.test"]},
    }


def build(tmp_path: Path, clock: ManualClock, **settings: Any) -> EdgeApp:
    tokens = tmp_path / "tokens.json"
    tokens.write_bytes(orjson.dumps({"tokens": [{"name": "beta-editor", "token": BETA_TOKEN, "tenants": ["beta"]}]}))
    defaults: dict[str, Any] = {
        "tenants_file": write_tenants(tmp_path / "tenants.json", tenants()),
        "reload_interval": 0,
        "admin_token": TOKEN,
        "admin_tokens_file": tokens,
        "plugin_timeout": 5.0,
        "access_log": "off",
    }
    return create_app(Settings(**{**defaults, **settings}), clock)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(1_800_000_000.0)


@pytest.fixture
async def client(
    tmp_path: Path, urls: Urls, owner: asyncpg.Connection, clock: ManualClock
) -> AsyncIterator[httpx.AsyncClient]:
    app = build(tmp_path, clock, database_url=urls.app)
    async with running(app), visitor(app) as found:
        yield found


def visitor(app: EdgeApp, address: str = "203.0.113.7") -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(address, 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://t")


def admin(token: str = TOKEN) -> dict[str, str]:
    return {"host": ADMIN, "authorization": f"Bearer {token}"}


def hidden_fields(page: str) -> dict[str, str]:
    """The hidden fields of the page's form, as a browser would send them."""
    return dict(_FIELD.findall(page))


def form(fields: dict[str, str], **values: str) -> dict[str, str]:
    return {**fields, "name": "Ada Lovelace", "email": "ada@example.com", "message": "Hello there", **values}


def headers(host: str, origin: str | None = None) -> dict[str, str]:
    return {"host": host, "origin": origin if origin is not None else f"https://{host}"}

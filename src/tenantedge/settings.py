"""Configuration from TENANTEDGE_* environment variables; every default works with no services at all."""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from tenantedge.errors import ConfigError
from tenantedge.http.proxies import IPNetwork
from tenantedge.integers import bounded_integer

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}
_YEAR = 31_536_000
_COOKIE_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}\Z")


@dataclass(frozen=True, slots=True)
class Settings:
    tenants_file: Path = Path("tenants.json")
    # Tenants' templates and overrides of the packaged defaults; unset: ./templates when it exists.
    templates_dir: Path | None = None
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 1
    # The operations listener: metrics, readiness, health with detail, the TLS `ask` and explain mode, answered
    # for any Host on this address and never on the public one; port 0 = none. Keep it off the internet.
    ops_port: int = 0
    ops_host: str = "127.0.0.1"
    # Unknown hosts get the neutral "no site here" 404, or this tenant's site when set.
    default_tenant: str | None = None
    # Peers whose X-Forwarded-Host / X-Forwarded-Proto are believed (a reverse proxy); nobody by default.
    trusted_proxies: tuple[IPNetwork, ...] = field(default_factory=tuple)
    template_reload: bool = False
    # One line per public request on standard output: json, plain or off (1 and 0: plain and off, as before).
    access_log: str = "json"
    # Requests counted by status, cache outcome, duration and tenant (the rest of /_edge/metrics is always there);
    # the busiest tenants get their own label, this many per worker, the others are summed as `other`. Off unless
    # asked for: on, it costs the cache-hit path 3 % with one host and 15 % with 10,000 (bench/compare.py).
    metrics: bool = False
    metrics_top_tenants: int = 50
    # Per-tenant figures reach the shared metrics and the stats minutes this often (and at every scrape): with
    # thousands of tenants a second, taking them every second cost the hot path 4 % (bench/hotpath.py).
    metrics_tenant_seconds: float = 10.0
    log_level: str = "info"
    # Explain mode: every response says which tenant, rule, templates and cache entry served it.
    debug: bool = False
    # How often each worker checks tenants.json for a saved change, in seconds; 0 turns watching off.
    reload_interval: float = 0.5
    # Rendered pages kept per worker; 0 entries turns the page cache off.
    page_cache_entries: int = 20_000
    page_cache_mb: int = 128
    # Rendered sections kept per worker, so a request that misses the page cache renders only the layout.
    # With the page cache on it would hold copies of cached pages, so by default it is on only when that is off.
    fragment_cache_mb: int | None = None
    gzip_min_bytes: int = 1024
    # HTTP caching lifetimes in seconds (RFC 9111 max-age/s-maxage, RFC 5861 stale-*).
    max_age: int = 60
    s_maxage: int = 300
    stale_while_revalidate: int = 60
    stale_if_error: int = 86_400
    not_found_max_age: int = 30
    redirect_max_age: int = 3_600
    # Tiers: unset Redis URL = no L2; unset S3 bucket = tenants.json is the origin.
    redis_url: str | None = None
    redis_prefix: str = "te:"
    redis_ttl: float = 300.0
    # Generous enough for a busy event loop's own delay; what it guards against is a hung Redis.
    redis_timeout: float = 1.0
    s3_endpoint: str | None = None
    s3_bucket: str | None = None
    s3_prefix: str = ""
    s3_timeout: float = 1.0
    l1_tenants: int = 2_000
    l1_domains: int = 20_000
    l1_ttl: float = 60.0
    negative_ttl: float = 5.0
    # The admin API, its WebSocket and previews answer only on this host, to holders of a token.
    admin_host: str = "admin.localhost"
    admin_token: str | None = None  # unset: one is generated at start and printed once
    admin_tokens_file: Path | None = None  # scoped tokens: {"tokens": [{"name", "token"|"sha256", "tenants"}]}
    # Origins allowed to open the WebSocket (browsers send one); the admin host itself on any port by default.
    admin_origins: tuple[str, ...] = ()
    admin_max_body: int = 1 << 20
    # Content (blog posts) in PostgreSQL; unset = no database features. Connect as tenantedge_app.
    database_url: str | None = None
    # Who `tenantedge migrate` connects as: an owner of the schema (the application role is not).
    database_owner_url: str | None = None
    database_timeout: float = 1.0
    database_pool: int = 10
    blog_per_page: int = 10
    # Experiments: the first-party cookie naming a visitor; with consent required, visitors without the consent
    # cookie see every experiment's control and get no visitor cookie.
    visitor_cookie: str = "te_vid"
    experiment_consent: bool = False
    consent_cookie: str = "te_consent"
    # Connection limits (hardening)
    # A request's URL and whole head in bytes, and its number of header lines; past them, 414 or 431.
    max_url_bytes: int = 8192
    max_header_bytes: int = 16384
    max_headers: int = 100
    # Seconds to send a whole request head from connecting, or from the previous response but no less than the
    # keep-alive timeout (then 408); and how long a kept-alive connection may sit idle.
    header_timeout: float = 10.0
    keep_alive_timeout: int = 5
    # Per worker, lowered to what the open-file limit leaves; at the cap the longest idle one makes room.
    max_connections: int = 10_000
    # Admin sign-in limits (hardening)
    # Wrong admin tokens allowed per client address, and per presented token, in a window of this many seconds;
    # past either budget, further wrong tokens get 429 with Retry-After until the window ends. A valid token
    # always passes. Counted in Redis (shared by every worker) when it is configured and answers.
    admin_failures: int = 10
    admin_failure_window: float = 60.0
    # Domain and document limits (hardening): what one tenant document may hold, on every write path (admin API,
    # sync, kv, tenants.json). Over the first, a write is refused with a 413 (the document is not validated);
    # over the second, with a 422 naming `domains` or `aliases`.
    max_tenant_bytes: int = 1 << 20  # the document as compact JSON
    max_domains: int = 1000  # domains and aliases together
    max_sections: int = 100  # in one list: a page, the header or the footer (422)
    max_custom_css_bytes: int = 64 * 1024  # a theme's custom CSS (422)
    # WebSocket limits (hardening): the largest message a client may send (the token, before it is checked),
    # closed with 1009 past it; the time to send that token (closed with 4401); events queued for a client that
    # reads too slowly (closed with 4008: it reconnects with `since`).
    ws_max_message_bytes: int = 64 * 1024
    ws_auth_timeout: float = 5.0
    ws_queue: int = 256
    # Tenant asset limits (hardening): one uploaded file (413), one tenant's files together (413), one image's
    # width x height x frames (422, refused from its header before any pixel is decoded); and the bytes of hot
    # assets each worker keeps in memory (larger files stream from the origin).
    max_asset_bytes: int = 10 << 20
    asset_quota_bytes: int = 200 << 20
    max_image_pixels: int = 40_000_000
    asset_memory_bytes: int = 64 << 20
    # Plugins (tenantedge.plugins): `0` imports none of those installed (tenants enabling one serve without it).
    # Each hook call gets this many seconds (a page renders without a hook that overruns, and that plugin is
    # skipped for the tenant for the cooldown); a form POST a plugin handles may carry this many bytes (413 past).
    plugins: bool = True
    plugin_timeout: float = 0.5
    plugin_cooldown: float = 30.0
    plugin_max_body: int = 64 * 1024

    @property
    def fragment_bytes(self) -> int:
        if self.fragment_cache_mb is not None:
            return self.fragment_cache_mb << 20
        return 0 if self.page_cache_entries else 64 << 20

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        reader = _Reader(env)
        return cls(
            tenants_file=Path(reader.text("TENANTS", "tenants.json")),
            templates_dir=Path(reader.text("TEMPLATES", "")) if reader.text("TEMPLATES", "") else None,
            host=reader.text("HOST", "127.0.0.1"),
            port=reader.integer("PORT", 8000, 0, 65535),
            workers=reader.integer("WORKERS", 1, 1, 512),
            ops_port=reader.integer("OPS_PORT", 0, 0, 65535),
            ops_host=reader.text("OPS_HOST", "127.0.0.1"),
            default_tenant=reader.text("DEFAULT_TENANT", "") or None,
            trusted_proxies=reader.networks("TRUSTED_PROXIES"),
            template_reload=reader.flag("TEMPLATE_RELOAD", False),
            access_log=reader.access_log("ACCESS_LOG"),
            metrics=reader.flag("METRICS", False),
            metrics_top_tenants=reader.integer("METRICS_TOP_TENANTS", 50, 1, 10_000),
            metrics_tenant_seconds=reader.number("METRICS_TENANT_SECONDS", 10.0, 0.1, 60.0),
            log_level=reader.choice("LOG_LEVEL", "info", ("critical", "error", "warning", "info", "debug")),
            debug=reader.flag("DEBUG", False),
            reload_interval=reader.number("RELOAD_INTERVAL", 0.5, 0.0, 3600.0),
            page_cache_entries=reader.integer("PAGE_CACHE_ENTRIES", 20_000, 0, 10_000_000),
            page_cache_mb=reader.integer("PAGE_CACHE_MB", 128, 1, 1_000_000),
            fragment_cache_mb=reader.optional_integer("FRAGMENT_CACHE_MB", 0, 1_000_000),
            gzip_min_bytes=reader.integer("GZIP_MIN_BYTES", 1024, 0, 1 << 30),
            max_age=reader.integer("CACHE_MAX_AGE", 60, 0, _YEAR),
            s_maxage=reader.integer("CACHE_S_MAXAGE", 300, 0, _YEAR),
            stale_while_revalidate=reader.integer("CACHE_STALE_WHILE_REVALIDATE", 60, 0, _YEAR),
            stale_if_error=reader.integer("CACHE_STALE_IF_ERROR", 86_400, 0, _YEAR),
            not_found_max_age=reader.integer("NOT_FOUND_MAX_AGE", 30, 0, _YEAR),
            redirect_max_age=reader.integer("REDIRECT_MAX_AGE", 3_600, 0, _YEAR),
            redis_url=reader.text("REDIS_URL", "") or None,
            redis_prefix=reader.text("REDIS_PREFIX", "te:"),
            redis_ttl=reader.number("REDIS_TTL", 300.0, 1.0, _YEAR),
            redis_timeout=reader.number("REDIS_TIMEOUT", 1.0, 0.001, 60.0),
            s3_endpoint=reader.text("S3_ENDPOINT", "") or None,
            s3_bucket=reader.text("S3_BUCKET", "") or None,
            s3_prefix=reader.text("S3_PREFIX", ""),
            s3_timeout=reader.number("S3_TIMEOUT", 1.0, 0.001, 60.0),
            l1_tenants=reader.integer("L1_TENANTS", 2_000, 1, 10_000_000),
            l1_domains=reader.integer("L1_DOMAINS", 20_000, 1, 10_000_000),
            l1_ttl=reader.number("L1_TTL", 60.0, 0.0, _YEAR),
            negative_ttl=reader.number("NEGATIVE_TTL", 5.0, 0.0, _YEAR),
            admin_host=reader.text("ADMIN_HOST", "admin.localhost"),
            admin_token=reader.text("ADMIN_TOKEN", "") or None,
            admin_tokens_file=Path(reader.text("ADMIN_TOKENS_FILE", ""))
            if reader.text("ADMIN_TOKENS_FILE", "")
            else None,
            admin_origins=tuple(origin for origin in reader.text("ADMIN_ORIGINS", "").split(",") if origin.strip()),
            admin_max_body=reader.integer("ADMIN_MAX_BODY", 1 << 20, 1024, 1 << 30),
            database_url=reader.text("DATABASE_URL", "") or None,
            database_owner_url=reader.text("DATABASE_OWNER_URL", "") or None,
            database_timeout=reader.number("DATABASE_TIMEOUT", 1.0, 0.01, 60.0),
            database_pool=reader.integer("DATABASE_POOL", 10, 1, 1000),
            blog_per_page=reader.integer("BLOG_PER_PAGE", 10, 1, 100),
            visitor_cookie=reader.cookie_name("VISITOR_COOKIE", "te_vid"),
            experiment_consent=reader.flag("EXPERIMENT_CONSENT", False),
            consent_cookie=reader.cookie_name("CONSENT_COOKIE", "te_consent"),
            # Connection limits (hardening)
            plugins=reader.flag("PLUGINS", True),
            plugin_timeout=reader.number("PLUGIN_TIMEOUT", 0.5, 0.001, 60.0),
            plugin_cooldown=reader.number("PLUGIN_COOLDOWN", 30.0, 0.0, 86_400.0),
            plugin_max_body=reader.integer("PLUGIN_MAX_BODY", 64 * 1024, 1024, 16 << 20),
            max_url_bytes=reader.integer("MAX_URL_BYTES", 8192, 256, 1 << 20),
            max_header_bytes=reader.integer("MAX_HEADER_BYTES", 16384, 1024, 1 << 20),
            max_headers=reader.integer("MAX_HEADERS", 100, 1, 10_000),
            header_timeout=reader.number("HEADER_TIMEOUT", 10.0, 0.1, 3600.0),
            keep_alive_timeout=reader.integer("KEEP_ALIVE_TIMEOUT", 5, 1, 3600),
            max_connections=reader.integer("MAX_CONNECTIONS", 10_000, 1, 1_000_000),
            # Admin sign-in limits (hardening)
            admin_failures=reader.integer("ADMIN_FAILURES", 10, 1, 1_000_000),
            admin_failure_window=reader.number("ADMIN_FAILURE_WINDOW", 60.0, 1.0, 86_400.0),
            # Domain and document limits (hardening)
            max_tenant_bytes=reader.integer("MAX_TENANT_BYTES", 1 << 20, 1024, 1 << 30),
            max_domains=reader.integer("MAX_DOMAINS", 1000, 1, 100_000),
            max_sections=reader.integer("MAX_SECTIONS", 100, 1, 10_000),
            max_custom_css_bytes=reader.integer("MAX_CUSTOM_CSS_BYTES", 64 * 1024, 0, 1 << 24),
            ws_max_message_bytes=reader.integer("WS_MAX_MESSAGE_BYTES", 64 * 1024, 1024, 1 << 26),
            ws_auth_timeout=reader.number("WS_AUTH_TIMEOUT", 5.0, 0.1, 600.0),
            ws_queue=reader.integer("WS_QUEUE", 256, 1, 1_000_000),
            # Tenant asset limits (hardening)
            max_asset_bytes=reader.integer("MAX_ASSET_BYTES", 10 << 20, 1024, 1 << 31),
            asset_quota_bytes=reader.integer("ASSET_QUOTA_BYTES", 200 << 20, 0, 1 << 40),
            max_image_pixels=reader.integer("MAX_IMAGE_PIXELS", 40_000_000, 1, 1 << 31),
            asset_memory_bytes=reader.integer("ASSET_MEMORY_BYTES", 64 << 20, 0, 1 << 40),
        )


@dataclass(slots=True)
class _Reader:
    env: Mapping[str, str]
    prefix: str = "TENANTEDGE_"

    def text(self, name: str, default: str) -> str:
        return self.env.get(self.prefix + name, default).strip()

    def cookie_name(self, name: str, default: str) -> str:
        raw = self.text(name, default)
        if not _COOKIE_NAME.match(raw):
            raise ConfigError(f"{self.prefix}{name}: expected a cookie name (letters, digits, '_', '-'), found {raw!r}")
        return raw

    def integer(self, name: str, default: int, low: int, high: int) -> int:
        raw = self.text(name, str(default))
        value = bounded_integer(raw, low, high)
        if value is None:
            raise ConfigError(f"{self.prefix}{name}: expected a whole number from {low} to {high}, found {raw!r}")
        return value

    def optional_integer(self, name: str, low: int, high: int) -> int | None:
        return self.integer(name, low, low, high) if self.text(name, "") else None

    def number(self, name: str, default: float, low: float, high: float) -> float:
        raw = self.text(name, str(default))
        try:
            value = float(raw) if raw.isascii() else low - 1  # float() also reads '٣'
        except ValueError:
            value = low - 1
        if not low <= value <= high:
            raise ConfigError(f"{self.prefix}{name}: expected a number from {low:g} to {high:g}, found {raw!r}")
        return value

    def flag(self, name: str, default: bool) -> bool:
        raw = self.text(name, "1" if default else "0").lower()
        if raw in _TRUE:
            return True
        if raw in _FALSE:
            return False
        raise ConfigError(f"{self.prefix}{name}: expected 1/0, true/false, yes/no or on/off, found {raw!r}")

    def access_log(self, name: str) -> str:
        raw = self.text(name, "json").lower()
        if raw in _TRUE:
            return "plain"
        if raw in _FALSE:
            return "off"
        return self.choice(name, "json", ("json", "plain", "off"))

    def choice(self, name: str, default: str, choices: tuple[str, ...]) -> str:
        raw = self.text(name, default).lower()
        if raw not in choices:
            raise ConfigError(f"{self.prefix}{name}: expected one of {', '.join(choices)}, found {raw!r}")
        return raw

    def networks(self, name: str) -> tuple[IPNetwork, ...]:
        found = []
        for part in self.text(name, "").split(","):
            if not part.strip():
                continue
            try:
                found.append(ipaddress.ip_network(part.strip(), strict=False))
            except ValueError as e:
                raise ConfigError(f"{self.prefix}{name}: {part.strip()!r} is not an IP address or network") from e
        return tuple(found)

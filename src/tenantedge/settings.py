"""Configuration from TENANTEDGE_* environment variables; every default works with no services at all."""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from tenantedge.errors import ConfigError

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


@dataclass(frozen=True, slots=True)
class Settings:
    tenants_file: Path = Path("tenants.json")
    templates_dir: Path = Path("templates")
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 1
    # Unknown hosts get the neutral "no site here" 404, or this tenant's site when set.
    default_tenant: str | None = None
    # Peers whose X-Forwarded-Host / X-Forwarded-Proto are believed (a reverse proxy); nobody by default.
    trusted_proxies: tuple[IPNetwork, ...] = field(default_factory=tuple)
    template_reload: bool = False
    access_log: bool = True
    log_level: str = "info"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        reader = _Reader(env)
        return cls(
            tenants_file=Path(reader.text("TENANTS", "tenants.json")),
            templates_dir=Path(reader.text("TEMPLATES", "templates")),
            host=reader.text("HOST", "127.0.0.1"),
            port=reader.integer("PORT", 8000, 0, 65535),
            workers=reader.integer("WORKERS", 1, 1, 512),
            default_tenant=reader.text("DEFAULT_TENANT", "") or None,
            trusted_proxies=reader.networks("TRUSTED_PROXIES"),
            template_reload=reader.flag("TEMPLATE_RELOAD", False),
            access_log=reader.flag("ACCESS_LOG", True),
            log_level=reader.choice("LOG_LEVEL", "info", ("critical", "error", "warning", "info", "debug")),
        )


@dataclass(slots=True)
class _Reader:
    env: Mapping[str, str]
    prefix: str = "TENANTEDGE_"

    def text(self, name: str, default: str) -> str:
        return self.env.get(self.prefix + name, default).strip()

    def integer(self, name: str, default: int, low: int, high: int) -> int:
        raw = self.text(name, str(default))
        try:
            value = int(raw)
        except ValueError:
            value = low - 1
        if not low <= value <= high:
            raise ConfigError(f"{self.prefix}{name}: expected a whole number from {low} to {high}, found {raw!r}")
        return value

    def flag(self, name: str, default: bool) -> bool:
        raw = self.text(name, "1" if default else "0").lower()
        if raw in _TRUE:
            return True
        if raw in _FALSE:
            return False
        raise ConfigError(f"{self.prefix}{name}: expected 1/0, true/false, yes/no or on/off, found {raw!r}")

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

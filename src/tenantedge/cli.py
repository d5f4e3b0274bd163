"""The `tenantedge` command: serve sites, validate a tenants file."""

from __future__ import annotations

import argparse
import copy
import errno
import os
import socket
import sys
from collections.abc import Sequence
from typing import Any

from tenantedge import __version__
from tenantedge.errors import ConfigError, DocumentError, TenantEdgeError
from tenantedge.settings import Settings


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        code: int = args.handler(args)
    except DocumentError as e:
        print(f"tenantedge: {e}", file=sys.stderr)
        return 1
    except TenantEdgeError as e:
        print(f"tenantedge: error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return code


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tenantedge", description="One application that serves thousands of sites.")
    parser.add_argument("--version", action="version", version=f"tenantedge {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = commands.add_parser("serve", help="serve every tenant's site over HTTP")
    serve.add_argument("--host", help="address to listen on (TENANTEDGE_HOST, default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port to listen on (TENANTEDGE_PORT, default 8000)")
    serve.add_argument("--workers", type=int, help="worker processes (TENANTEDGE_WORKERS, default 1)")
    serve.add_argument("--tenants", metavar="FILE", help="tenants document (TENANTEDGE_TENANTS, default tenants.json)")
    serve.add_argument("--templates", metavar="DIR", help="templates folder (TENANTEDGE_TEMPLATES, default templates)")
    serve.add_argument("--default-tenant", metavar="ID", help="serve this tenant for unknown hosts instead of a 404")
    serve.set_defaults(handler=_serve)

    validate = commands.add_parser("validate", help="check a tenants document and the templates; exit 1 on errors")
    validate.add_argument("file", nargs="?", help="tenants document (default: TENANTEDGE_TENANTS or tenants.json)")
    validate.add_argument("--templates", metavar="DIR", help="templates folder (default templates)")
    validate.set_defaults(handler=_validate)
    return parser


def _apply_flags(args: argparse.Namespace, names: dict[str, str]) -> Settings:
    """Command-line flags override the environment, and are passed on to worker processes through it."""
    for attribute, variable in names.items():
        value = getattr(args, attribute, None)
        if value is not None:
            os.environ[f"TENANTEDGE_{variable}"] = str(value)
    return Settings.from_env()


def _validate(args: argparse.Namespace) -> int:
    from tenantedge.app import load_registry
    from tenantedge.render.assets import AssetCatalog
    from tenantedge.render.pages import PageRenderer
    from tenantedge.store.files import load_tenants_file

    settings = _apply_flags(args, {"file": "TENANTS", "templates": "TEMPLATES"})
    registry = load_registry(settings)
    tenants = load_tenants_file(settings.tenants_file, registry)
    assets = AssetCatalog.from_directory(settings.templates_dir / "default" / "assets")
    problems = PageRenderer(settings.templates_dir, assets).compile_all()
    if problems:
        print(f"tenantedge: {settings.templates_dir}: {len(problems)} template error(s)", file=sys.stderr)
        for problem in problems:
            print(f"  {problem}", file=sys.stderr)
        return 1
    print(f"{settings.tenants_file}: ok, {tenants.summary()}")
    return 0


def _serve(args: argparse.Namespace) -> int:
    import uvicorn
    from uvicorn.config import LOGGING_CONFIG

    from tenantedge.app import create_app

    flags = {"host": "HOST", "port": "PORT", "workers": "WORKERS", "tenants": "TENANTS"}
    flags |= {"templates": "TEMPLATES", "default_tenant": "DEFAULT_TENANT"}
    settings = _apply_flags(args, flags)
    # Load once here so a bad file or folder is reported once, plainly, before any worker starts.
    app = create_app(settings)
    _check_port(settings.host, settings.port)
    print(f"tenantedge: serving {settings.tenants_file} on http://{settings.host}:{settings.port}", file=sys.stderr)
    uvicorn.run(
        "tenantedge.app:create_app" if settings.workers > 1 else app,
        factory=settings.workers > 1,
        host=settings.host,
        port=settings.port,
        workers=settings.workers,
        loop="uvloop",
        http="httptools",
        # tenantedge decides itself which peers may set X-Forwarded-* (TENANTEDGE_TRUSTED_PROXIES).
        proxy_headers=False,
        server_header=False,
        access_log=settings.access_log,
        log_level=settings.log_level,
        log_config=_log_config(LOGGING_CONFIG),
    )
    return 0


def _log_config(base: dict[str, Any]) -> dict[str, Any]:
    config = copy.deepcopy(base)
    config["loggers"]["tenantedge"] = {"handlers": ["default"], "level": "INFO", "propagate": False}
    return config


def _check_port(host: str, port: int) -> None:
    """Fail with one clear line, before uvicorn starts, when the address cannot be listened on."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as e:
            hint = " (another server is using it: stop it or choose --port)" if e.errno == errno.EADDRINUSE else ""
            raise ConfigError(f"cannot listen on {host}:{port}: {e.strerror}{hint}") from e

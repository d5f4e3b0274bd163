"""The `tenantedge` command: serve sites, validate a tenants file."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import copy
import errno
import os
import secrets
import shutil
import socket
import sys
import tempfile
from collections.abc import AsyncIterator, Sequence
from typing import TYPE_CHECKING, Any

import orjson

from tenantedge import __version__
from tenantedge.errors import ConfigError, DocumentError, TenantEdgeError
from tenantedge.progress import Progress
from tenantedge.settings import Settings

if TYPE_CHECKING:
    from tenantedge.media.library import AssetLibrary
    from tenantedge.sections import SectionRegistry
    from tenantedge.store.publisher import Publisher
    from tenantedge.store.s3 import S3Tier
    from tenantedge.tenants import DocumentLimits, TenantSet


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
    serve.add_argument(
        "--templates", metavar="DIR", help="tenant templates, overrides (TENANTEDGE_TEMPLATES, default ./templates)"
    )
    serve.add_argument("--default-tenant", metavar="ID", help="serve this tenant for unknown hosts instead of a 404")
    serve.set_defaults(handler=_serve)

    validate = commands.add_parser("validate", help="check a tenants document and the templates; exit 1 on errors")
    validate.add_argument("file", nargs="?", help="tenants document (default: TENANTEDGE_TENANTS or tenants.json)")
    validate.add_argument("--templates", metavar="DIR", help="tenant templates, overrides (default ./templates)")
    validate.set_defaults(handler=_validate)

    sync = commands.add_parser(
        "sync", help="publish a tenants document to S3 and Redis (changed tenants only, with history and events)"
    )
    sync.add_argument("file", nargs="?", help="tenants document (default: TENANTEDGE_TENANTS or tenants.json)")
    sync.add_argument("--prune", action="store_true", help="remove stored tenants the document no longer has")
    sync.add_argument(
        "--force", action="store_true", help="replace versions published at the admin since the last sync"
    )
    sync.add_argument("--templates", metavar="DIR", help="tenant templates, overrides (default ./templates)")
    sync.set_defaults(handler=_sync)

    kv = commands.add_parser("kv", help="read and write single tenant and domain documents in S3 and Redis")
    actions = kv.add_subparsers(dest="action", required=True, metavar="ACTION")
    get = actions.add_parser("get", help="print a stored document")
    get.add_argument("kind", choices=["tenant", "domain"])
    get.add_argument("name")
    put = actions.add_parser("put", help="validate and store a document (a tenant's version goes up)")
    put.add_argument("kind", choices=["tenant", "domain"])
    put.add_argument("name")
    put.add_argument("document", help="a JSON file, or - for standard input")
    delete = actions.add_parser("delete", help="remove a document (a tenant with all its domains)")
    delete.add_argument("kind", choices=["tenant", "domain"])
    delete.add_argument("name")
    listing = actions.add_parser("list", help="list stored tenant ids or domain patterns")
    listing.add_argument("kind", choices=["tenants", "domains"])
    kv.add_argument("--templates", metavar="DIR", help="tenant templates, overrides (default ./templates)")
    kv.set_defaults(handler=_kv)

    assets = commands.add_parser(
        "assets", help="a tenant's assets (images, icons, fonts): upload, list, delete, with the admin API's checks"
    )
    assets_actions = assets.add_subparsers(dest="action", required=True, metavar="ACTION")
    assets_put = assets_actions.add_parser("put", help="upload files; prints each one's reference for documents")
    assets_put.add_argument("tenant")
    assets_put.add_argument("files", nargs="+", metavar="FILE")
    assets_ls = assets_actions.add_parser("ls", help="list a tenant's assets, and where its published pages use them")
    assets_ls.add_argument("tenant")
    assets_rm = assets_actions.add_parser("rm", help="delete assets no published page uses")
    assets_rm.add_argument("tenant")
    assets_rm.add_argument("ids", nargs="+", metavar="ID")
    assets.add_argument("--templates", metavar="DIR", help="tenant templates, overrides (default ./templates)")
    assets.set_defaults(handler=_assets)

    migrate = commands.add_parser(
        "migrate", help="apply the SQL migrations of migrations/, then the installed plugins', to the content database"
    )
    migrate.add_argument("--status", action="store_true", help="list applied and pending migrations, change nothing")
    migrate.add_argument("--folder", default="migrations", help="the migrations folder (default migrations)")
    migrate.add_argument(
        "--database-url",
        help="connect as the owner (default TENANTEDGE_DATABASE_OWNER_URL, then TENANTEDGE_DATABASE_URL)",
    )
    migrate.set_defaults(handler=_migrate)

    seed = commands.add_parser("seed-demo", help="write a few published posts for the demo tenants (idempotent)")
    seed.set_defaults(handler=_seed_demo)

    watch = commands.add_parser("watch", help="print admin events (tenant changes) as they happen")
    watch.add_argument("--tenant", action="append", default=[], metavar="ID", help="only this tenant (repeatable)")
    watch.add_argument("--since", type=int, metavar="SEQ", help="first replay the events after this sequence number")
    watch.add_argument("--address", metavar="HOST:PORT", help="server to connect to (default: the serve address)")
    watch.set_defaults(handler=_watch)

    plugins = commands.add_parser(
        "plugins", help="list installed plugins: version, status, hooks, sections, and the tenants that enable each"
    )
    plugins.add_argument("file", nargs="?", help="tenants document (default: TENANTEDGE_TENANTS or tenants.json)")
    plugins.add_argument("--json", action="store_true", help="print JSON instead of text")
    plugins.set_defaults(handler=_plugins)
    return parser


def _apply_flags(args: argparse.Namespace, names: dict[str, str]) -> Settings:
    """Command-line flags override the environment, and are passed on to worker processes through it."""
    for attribute, variable in names.items():
        value = getattr(args, attribute, None)
        if value is not None:
            os.environ[f"TENANTEDGE_{variable}"] = str(value)
    return Settings.from_env()


def _validate(args: argparse.Namespace) -> int:
    from tenantedge.app import installed_plugins, load_registry
    from tenantedge.render.assets import AssetCatalog
    from tenantedge.render.folders import TemplateFolders
    from tenantedge.render.pages import PageRenderer
    from tenantedge.store.files import load_tenants_file

    settings = _apply_flags(args, {"file": "TENANTS", "templates": "TEMPLATES"})
    discovered = installed_plugins(settings)
    registry = load_registry(settings, discovered)
    tenants = load_tenants_file(settings.tenants_file, registry, documents=True, limits=_limits(settings))
    folders = TemplateFolders.find(settings.templates_dir)
    assets = AssetCatalog.from_directories(folders.defaults("assets"))
    if not settings.s3_bucket:  # with S3 the libraries are in the bucket, checked by `sync` as it publishes
        _check_asset_references(settings, tenants)
    # A broken plugin does not stop a site, but a tenant enabling one is served without it: worth a failure here.
    broken = [
        f"tenant {tenant.id}: plugin {name} is broken: {discovered.broken[name].broken}"
        for tenant in tenants.tenants.values()
        for name in tenant.plugins
        if name in discovered.broken
    ]
    plugin_folders = {name: plugin.manifest.root for name, plugin in discovered.loaded.items()}
    problems = broken + PageRenderer(folders, assets, plugins=plugin_folders).compile_all()
    if problems:
        where = ", ".join(str(root) for root in folders.roots)
        print(f"tenantedge: {where}: {len(problems)} template or plugin error(s)", file=sys.stderr)
        for problem in problems:
            print(f"  {problem}", file=sys.stderr)
        return 1
    print(f"{settings.tenants_file}: ok, {tenants.summary()}")
    return 0


def _plugins(args: argparse.Namespace) -> int:
    from tenantedge.app import installed_plugins, load_registry
    from tenantedge.store.files import load_tenants_file

    settings = _apply_flags(args, {"file": "TENANTS"})
    discovered = installed_plugins(settings)
    enabling: dict[str, list[str]] = {}
    if settings.tenants_file.is_file():
        registry = load_registry(settings, discovered)
        tenants = load_tenants_file(settings.tenants_file, registry, limits=_limits(settings))
        for tenant in tenants.tenants.values():
            for name in tenant.plugins:
                enabling.setdefault(name, []).append(tenant.id)
    listing = []
    for name, plugin in sorted(discovered.loaded.items()):
        manifest = plugin.manifest
        listing.append(
            {
                "name": name,
                "version": manifest.version,
                "requires": manifest.requires,
                "status": "loaded",
                "hooks": sorted(plugin.hooks),
                "sections": list(plugin.schema.sections),
                "tenants": sorted(enabling.get(name, [])),
            }
        )
    for name, schema in sorted(discovered.broken.items()):
        listing.append({"name": name, "status": f"broken: {schema.broken}", "tenants": sorted(enabling.get(name, []))})
    if args.json:
        print(orjson.dumps(listing, option=orjson.OPT_INDENT_2).decode())
        return 0
    if not listing:
        print("no plugins installed (entry point group tenantedge.plugins)")
    for entry in listing:
        print(f"{entry['name']} {entry.get('version', '')} ({entry['status']})".replace("  ", " "))
        if "requires" in entry:
            print(f"  supports tenantedge {entry['requires']}")
            print(f"  hooks: {', '.join(entry['hooks']) or 'none'}")
            print(f"  sections: {', '.join(entry['sections']) or 'none'}")
        print(f"  enabled by: {', '.join(entry['tenants']) or 'no tenant'}")
    return 0


def _check_asset_references(settings: Settings, tenants: TenantSet) -> None:
    """DocumentError naming each reference to an asset missing from the `assets/` folder beside the file."""
    from tenantedge.errors import ValidationIssue
    from tenantedge.media.references import references
    from tenantedge.media.store import FolderAssets

    folder = FolderAssets(settings.tenants_file.parent)

    async def missing() -> list[ValidationIssue]:
        found = []
        for tenant_id in sorted(tenants.documents):
            library = await folder.library(tenant_id)
            found += [
                ValidationIssue.at(("tenants", tenant_id, *path), f"no asset {asset} in {folder.root / tenant_id}")
                for path, asset in references(orjson.loads(tenants.documents[tenant_id]))
                if asset not in library
            ]
        return found

    issues = asyncio.run(missing())
    if issues:
        raise DocumentError(str(settings.tenants_file), issues)


def _sync(args: argparse.Namespace) -> int:
    from tenantedge.store.files import load_tenants_file
    from tenantedge.store.operations import sync

    settings = _apply_flags(args, {"file": "TENANTS", "templates": "TEMPLATES"})
    registry = _registry(settings)
    tenants = load_tenants_file(settings.tenants_file, registry, documents=True, limits=_limits(settings))

    async def run() -> list[str]:
        from tenantedge.app import build_assets
        from tenantedge.media.store import FolderAssets
        from tenantedge.media.sync import sync_assets

        async with _publishing(settings) as (publisher, s3):
            # Assets first: the documents' references must find them.
            library = build_assets(settings, publisher, s3=s3, files=None)
            source = FolderAssets(settings.tenants_file.parent)
            async for line in sync_assets(source, library, tenants.tenants, by=_operator()):
                print(line, flush=True)
            with Progress("sync", len(tenants.tenants), unit="tenants") as progress:
                return await sync(
                    tenants, publisher, by=_operator(), prune=args.prune, force=args.force, tick=progress.advance
                )

    lines = asyncio.run(run())
    print("\n".join(lines))
    changed = sum(1 for line in lines if line[0] in "+~-")
    refused = sum(1 for line in lines if line.startswith("!") and ": not written: " in line)
    print(f"{settings.tenants_file}: {changed} changed, {len(lines) - changed - refused} unchanged or kept", end="")
    print(f", {refused} refused (conflicts)" if refused else "")
    return 1 if refused else 0


def _assets(args: argparse.Namespace) -> int:
    from tenantedge.errors import AssetRefused, VersionConflict
    from tenantedge.events import ASSET_ADDED, ASSET_DELETED, Event
    from tenantedge.tenants import TENANT_ID

    settings = _apply_flags(args, {"templates": "TEMPLATES"})
    if not TENANT_ID.match(args.tenant):
        raise ConfigError(f"{args.tenant!r} is not a tenant id (lowercase letters, digits and '-')")

    async def run() -> int:
        failed = 0
        async with _asset_library(settings) as (library, publisher):
            if args.action == "ls":
                for item in await library.listing(args.tenant):
                    size = f"{item['width']}x{item['height']}" if item["width"] else "-"
                    used = ", ".join(item["used_in"]) or "unused"
                    kind = f"{item['content_type']:<14} {size:<11}"
                    print(f"{item['id']}  {item['size']:>10,}  {kind} {item['name']}  ({used})")
                return 0
            sizes = {name: _file_size(name) for name in args.files} if args.action == "put" else {}
            progress = Progress("upload", sum(sizes.values()), in_bytes=True) if sizes else None
            for name in args.files if args.action == "put" else args.ids:
                try:
                    if args.action == "put":
                        uploaded = await library.upload(args.tenant, name, _read_document(name), _operator())
                        record = uploaded.record
                        if uploaded.created:
                            await publisher.announce(Event(ASSET_ADDED, args.tenant, 0, record.id))
                        mark = "+" if uploaded.created else "="
                        print(f"{mark} {name}: asset:{record.id} ({record.content_type}, {record.size:,} bytes)")
                    else:
                        await library.delete(args.tenant, name)
                        await publisher.announce(Event(ASSET_DELETED, args.tenant, 0, name))
                        print(f"- {name}: removed")
                except (AssetRefused, VersionConflict) as e:
                    print(f"! {name}: {e}", file=sys.stderr)
                    failed += 1
                if progress is not None:
                    progress.advance(sizes[name])
            if progress is not None:
                progress.finish()
        return 1 if failed else 0

    return asyncio.run(run())


@contextlib.asynccontextmanager
async def _asset_library(settings: Settings) -> AsyncIterator[tuple[AssetLibrary, Publisher]]:
    """The asset library a serving worker uses: in S3 when there is a bucket, else beside tenants.json."""
    from tenantedge.app import build_assets, build_publisher, event_bus

    if settings.s3_bucket:
        async with _publishing(settings) as (publisher, s3):
            yield build_assets(settings, publisher, s3=s3, files=None), publisher
        return
    from tenantedge.store.files import FileStore

    registry = _registry(settings)
    files = FileStore.open(settings.tenants_file, registry, limits=_limits(settings))
    bus = event_bus(settings)
    publisher = build_publisher(settings, registry, bus, s3=None, files=files, cache=None, limits=_limits(settings))
    try:
        yield build_assets(settings, publisher, s3=None, files=files), publisher
    finally:
        await publisher.close()
        await bus.close()


def _kv(args: argparse.Namespace) -> int:
    from tenantedge.store import operations

    settings = _apply_flags(args, {"templates": "TEMPLATES"})

    async def run() -> str:
        async with _publishing(settings) as (publisher, s3):
            if args.action == "get":
                return await _kv_get(s3, publisher, args.kind, args.name)
            if args.action == "list":
                return "\n".join(await s3.names("tenant" if args.kind == "tenants" else "domain"))
            if args.action == "delete":
                if args.kind == "tenant":
                    await operations.delete_tenant(args.name, publisher, by=_operator())
                else:
                    await operations.delete_domain(args.name, publisher, by=_operator())
                return f"- {args.kind} {args.name}: removed"
            data = sys.stdin.buffer.read() if args.document == "-" else _read_document(args.document)
            if args.kind == "tenant":
                return await operations.put_tenant(args.name, data, publisher, args.document, by=_operator())
            return await operations.put_domain(args.name, data, publisher, by=_operator())

    print(asyncio.run(run()))
    return 0


async def _kv_get(s3: S3Tier, publisher: Publisher, kind: str, name: str) -> str:
    from tenantedge.hosts import normalise_pattern

    if kind == "tenant":
        document = await publisher.load(name)
    else:
        data = await s3.get(("domain", normalise_pattern(name)))
        document = orjson.loads(data) if data is not None else None
    if document is None:
        raise ConfigError(f"no {kind} {name!r} in s3")
    return orjson.dumps(document, option=orjson.OPT_INDENT_2).decode()


def _file_size(path: str) -> int:
    try:
        return os.path.getsize(path)
    except OSError as e:
        raise ConfigError(f"{path}: cannot read: {e.strerror}") from e


def _read_document(path: str) -> bytes:
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except OSError as e:
        raise ConfigError(f"{path}: cannot read: {e.strerror}") from e


def _registry(settings: Settings) -> SectionRegistry:
    from tenantedge.app import load_registry

    return load_registry(settings)


def _limits(settings: Settings) -> DocumentLimits:
    """The limits a serving worker holds documents to: what it would refuse, sync and validate refuse too."""
    from tenantedge.admin.wiring import admin_host
    from tenantedge.app import document_limits

    return document_limits(settings, admin_host(settings))


def _operator() -> str:
    """Who an operator's write is recorded as: the account that ran the command."""
    import getpass

    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return f"cli:uid-{os.getuid()}"


@contextlib.asynccontextmanager
async def _publishing(settings: Settings) -> AsyncIterator[tuple[Publisher, S3Tier]]:
    """The publisher every serving worker uses, on S3 (the origin) and Redis (cache, lock and events), and the
    S3 tier for reads."""
    from tenantedge.app import build_publisher, event_bus, redis_cache, s3_origin
    from tenantedge.clock import SystemClock

    clock = SystemClock()
    s3 = s3_origin(settings, clock)
    if s3 is None:
        raise ConfigError(
            "sync and kv publish to S3: set TENANTEDGE_S3_BUCKET (with tenants.json as the origin, save the file: "
            "every serving worker publishes the change itself)"
        )
    cache, bus = redis_cache(settings, clock), event_bus(settings, clock)
    registry = _registry(settings)
    publisher = build_publisher(settings, registry, bus, s3=s3, files=None, cache=cache, limits=_limits(settings))
    try:
        yield publisher, s3
    finally:
        await publisher.close()
        await bus.close()
        await s3.close()
        if cache is not None:
            await cache.close()


def _migrate(args: argparse.Namespace) -> int:
    from pathlib import Path

    from tenantedge.app import installed_plugins
    from tenantedge.content.migrate import every_migration, migrate, status

    settings = Settings.from_env()
    # Each loaded plugin's migrations/ folder, applied after tenantedge's own.
    plugins = {
        name: plugin.manifest.migrations
        for name, plugin in installed_plugins(settings).loaded.items()
        if plugin.manifest.migrations.is_dir()
    }
    url = args.database_url or settings.database_owner_url or settings.database_url
    if not url:
        raise ConfigError("migrate needs --database-url or TENANTEDGE_DATABASE_OWNER_URL (an owner of the schema)")
    folder = Path(args.folder)
    if args.status:
        for name, applied in asyncio.run(status(url, folder, plugins)):
            print(f"{'applied ' + applied if applied else 'pending':<28} {name}")
        return 0
    with Progress("migrate", len(every_migration(folder, plugins)), unit="files") as progress:
        done = asyncio.run(migrate(url, folder, plugins=plugins, tick=progress.advance))
    print("\n".join(f"applied {name}" for name in done) if done else "up to date: nothing to apply")
    return 0


def _seed_demo(args: argparse.Namespace) -> int:
    from tenantedge.clock import SystemClock
    from tenantedge.content.db import ContentDatabase
    from tenantedge.content.seed import seed_demo

    settings = Settings.from_env()
    if not settings.database_url:
        raise ConfigError("seed-demo needs TENANTEDGE_DATABASE_URL (the application role, tenantedge_app)")

    async def run() -> list[str]:
        database = ContentDatabase(settings.database_url or "", SystemClock(), timeout=10)
        try:
            return await seed_demo(database)
        finally:
            await database.close()

    print("\n".join(asyncio.run(run())))
    return 0


def _watch(args: argparse.Namespace) -> int:
    from tenantedge.watch import watch

    return asyncio.run(watch(Settings.from_env(), args.tenant, since=args.since, address=args.address))


def _serve(args: argparse.Namespace) -> int:
    import uvicorn
    from uvicorn.config import LOGGING_CONFIG
    from uvicorn.supervisors import Multiprocess

    metrics_dir = _metrics_folder()  # before prometheus_client is imported, here and in every worker
    from tenantedge.app import create_app
    from tenantedge.http.limits import HttpLimits, connection_cap
    from tenantedge.http.server import serving_protocol

    flags = {"host": "HOST", "port": "PORT", "workers": "WORKERS", "tenants": "TENANTS"}
    flags |= {"templates": "TEMPLATES", "default_tenant": "DEFAULT_TENANT"}
    settings = _apply_flags(args, flags)
    generated = settings.admin_token is None and settings.admin_tokens_file is None
    if generated:
        # One token for every worker, passed on through the environment, printed once the server can start.
        os.environ["TENANTEDGE_ADMIN_TOKEN"] = secrets.token_urlsafe(24)
        settings = Settings.from_env()
    # Load once here so a bad file or folder is reported once, plainly, before any worker starts.
    app = create_app(settings)
    sockets = [_listen(settings.host, settings.port, "--port")]
    if settings.ops_port:
        sockets.append(_listen(settings.ops_host, settings.ops_port, "TENANTEDGE_OPS_PORT"))
    limits = HttpLimits(
        max_url_bytes=settings.max_url_bytes,
        max_header_bytes=settings.max_header_bytes,
        max_headers=settings.max_headers,
        header_timeout=settings.header_timeout,
        max_connections=connection_cap(settings.max_connections),
    )
    if limits.max_connections < settings.max_connections:
        print(
            f"tenantedge: {limits.max_connections} connections per worker, not {settings.max_connections}: "
            "the open-file limit leaves no more room (TENANTEDGE_MAX_CONNECTIONS)",
            file=sys.stderr,
        )
    print(f"tenantedge: serving {settings.tenants_file} on http://{settings.host}:{settings.port}", file=sys.stderr)
    if settings.ops_port:
        print(f"tenantedge: operations on http://{settings.ops_host}:{settings.ops_port}/_edge/", file=sys.stderr)
    if generated:
        print(
            f"tenantedge: admin on http://{settings.admin_host}:{settings.port}/ with token {settings.admin_token} "
            "(set TENANTEDGE_ADMIN_TOKEN to choose it)",
            file=sys.stderr,
        )
    config = uvicorn.Config(
        "tenantedge.app:create_app" if settings.workers > 1 else app,
        factory=settings.workers > 1,
        host=settings.host,
        port=settings.port,
        workers=settings.workers,
        loop="uvloop",
        # httptools, with limits, and offering cached pages a head serialised once (tenantedge.http.server).
        http=serving_protocol(limits),
        timeout_keep_alive=settings.keep_alive_timeout,
        ws_max_size=settings.ws_max_message_bytes,
        # tenantedge decides itself which peers may set X-Forwarded-* (TENANTEDGE_TRUSTED_PROXIES).
        proxy_headers=False,
        server_header=False,
        access_log=False,  # tenantedge writes its own (tenantedge.telemetry.accesslog)
        log_level=settings.log_level,
        log_config=_log_config(LOGGING_CONFIG),
    )
    # Bound here, once, and shared by every worker: the app tells the listeners apart by their port.
    try:
        if settings.workers > 1:
            Multiprocess(config, sockets=sockets).run()
            return 0
        server = uvicorn.Server(config)
        server.run(sockets=sockets)
        return 0 if server.started else 3
    finally:
        if metrics_dir is not None:
            shutil.rmtree(metrics_dir, ignore_errors=True)


def _metrics_folder() -> str | None:
    """Where every worker's metrics live, so a scrape adds them up: PROMETHEUS_MULTIPROC_DIR, emptied (values of
    an earlier run must not count), or a new folder, removed on exit (the returned path)."""
    chosen = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if chosen:
        os.makedirs(chosen, exist_ok=True)
        for name in os.listdir(chosen):
            if name.endswith(".db"):
                os.unlink(os.path.join(chosen, name))
        return None
    folder = tempfile.mkdtemp(prefix="tenantedge-metrics-")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = folder
    return folder


def _log_config(base: dict[str, Any]) -> dict[str, Any]:
    config = copy.deepcopy(base)
    config["loggers"]["tenantedge"] = {"handlers": ["default"], "level": "INFO", "propagate": False}
    # Every line logged while a request is answered names it, as its access log line does: id and tenant.
    config.setdefault("filters", {})["request"] = {"()": "tenantedge.telemetry.logcontext.RequestContext"}
    config["handlers"]["default"]["filters"] = ["request"]
    config["formatters"]["default"]["fmt"] += "%(request)s"
    return config


def _listen(host: str, port: int, setting: str) -> socket.socket:
    """A bound socket for the workers to serve on, or one clear line when the address cannot be listened on."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as e:
        sock.close()
        hint = f" (another server is using it: stop it or choose {setting})" if e.errno == errno.EADDRINUSE else ""
        raise ConfigError(f"cannot listen on {host}:{port}: {e.strerror}{hint}") from e
    sock.set_inheritable(True)
    return sock

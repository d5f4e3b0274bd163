"""tenantedge plugin: a contact form that posts to the tenant's own domain, its messages kept in PostgreSQL under
row-level security and read through the admin API (`/api/plugins/contact-form/tenants/<id>/messages`).

Settings (tenants.json, `"plugins": {"contact-form": {...}}`): `to` (gets a copy by email when the server has
SMTP), `subject_prefix`, `rate_limit_per_hour`, `max_message_chars`. Spam is kept out without cookies: the
browser's Origin must be one of the tenant's hosts, a honeypot field, a signed token with a minimum time to fill
the form, a per-address hourly limit and a limit on every field.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import ipaddress
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import orjson

from contact_form import answers, inbox, mail, tokens
from contact_form.config import Config, current
from contact_form.ratelimit import MemoryRateLimit, RateLimit, RedisRateLimit
from contact_form.submission import (
    EMAIL_CHARS,
    NAME_CHARS,
    USER_AGENT_CHARS,
    Invalid,
    back_of,
    hostname,
    read,
    same_site,
)
from tenantedge.errors import BackendError
from tenantedge.plugins import AdminRequest, Manifest, PageInfo, PluginEvent, PluginResponse, PostRequest, hookimpl
from tenantedge.plugins.database import TenantDatabase

log = logging.getLogger("tenantedge.plugins.contact-form")

NAME = "contact-form"
ACTION = f"/_edge/plugins/{NAME}/submit"
manifest = Manifest(
    name=NAME,
    version="0.1.0",
    requires=">=0.1,<0.2",
    root=Path(__file__).parent,
    title="Contact form",
    description="A message form on the site; messages are kept in the tenant's inbox, and copied by email.",
    css=("contact-form.css",),
    post_paths=("submit",),
)
JSON = "application/json"
MAX_PER_PAGE = 100
_memory = MemoryRateLimit()
# Copies being sent by email: kept referenced until they are done.
_sending: set[asyncio.Task[bool]] = set()


@hookimpl
def tenantedge_page_context(page: PageInfo) -> Mapping[str, Any]:
    config = current()
    return {
        "receiving": page.has_database,
        "action": ACTION,
        "token": tokens.issue(config.secret, page.tenant_id, page.rendered_at),
        "limits": {"name": NAME_CHARS, "email": EMAIL_CHARS, "message": page.settings["max_message_chars"]},
    }


@hookimpl
async def tenantedge_post(request: PostRequest) -> PluginResponse:
    config = current()
    headers = request.headers
    hosts = {hostname(headers.get("host", "")), hostname(headers.get("x-forwarded-host", "")), request.domain}
    if not same_site(headers, hosts - {""}):
        return answers.plain(403, "This form can only be sent from its own site")
    if request.database is None:
        return answers.plain(503, "This site cannot take messages at the moment", retry_after=3600)
    client = _client_hash(config, request.client)
    limit = _rate_limit(config)
    key = f"{request.tenant_id}:{client or 'unknown'}"
    wait = await limit.hit(key, request.settings["rate_limit_per_hour"], request.received_at)
    if wait is not None:
        return answers.plain(429, "Too many messages from your address: please try again later", retry_after=wait)
    try:
        submission = read(
            body=request.body,
            content_type=headers.get("content-type", ""),
            max_message_chars=request.settings["max_message_chars"],
        )
    except Invalid as e:
        return answers.problem(e.field, e.reason, back_of(request.body))
    sent = f"{submission.page}#{submission.section}-sent"
    if submission.trap:
        log.info("contact-form: a message to tenant %s filled the honeypot; not kept", request.tenant_id)
        return PluginResponse(location=sent)  # what a person would see: a bot learns nothing
    problem = tokens.check(
        config.secret, request.tenant_id, submission.token, request.received_at, config.token_max_age
    )
    if problem in (tokens.TokenProblem.TOO_FAST, tokens.TokenProblem.EXPIRED):
        fresh = tokens.issue(config.secret, request.tenant_id, request.received_at)
        reason = (
            "That was quick: please check your message and send it again."
            if problem is tokens.TokenProblem.TOO_FAST
            else "The page you wrote on is old: please check your message and send it again."
        )
        return answers.confirm(submission, fresh, ACTION, reason)
    if problem is not None:
        return answers.problem(
            "form", "it was not sent from this site's page; please go back and send it again", submission.back
        )
    try:
        await inbox.keep(
            request.database,
            name=submission.name,
            email=submission.email,
            message=submission.message,
            client_hash=client,
            user_agent=headers.get("user-agent", "")[:USER_AGENT_CHARS],
        )
    except BackendError as e:
        # Answered here, not raised: a raising hook would rest the plugin, and take the form off the pages too.
        log.error("contact-form: a message to tenant %s could not be stored: %s", request.tenant_id, e)
        return answers.confirm(
            submission,
            tokens.issue(config.secret, request.tenant_id, request.received_at),
            ACTION,
            "Your message could not be stored just now: please send it again in a minute.",
            status=503,
        )
    _send_copy(config, request, submission.name, submission.email, submission.message)
    return PluginResponse(location=sent)


@hookimpl
async def tenantedge_admin(request: AdminRequest) -> PluginResponse | None:
    try:
        return await _inbox(request)
    except BackendError as e:
        log.error("contact-form: the inbox of tenant %s could not be read: %s", request.tenant_id, e)
        return _error(503, "the database did not answer: try again shortly")


async def _inbox(request: AdminRequest) -> PluginResponse | None:
    parts = request.path.strip("/").split("/")
    if parts[0] != "messages" or len(parts) > 2:
        return None
    if request.database is None:
        return _error(503, "no database is configured: messages cannot be kept or read")
    if len(parts) == 1:
        # Another method is no route of the plugin's: 404, as the admin API answers it for any path.
        return await _list(request.database, request.query) if request.method == "GET" else None
    if not parts[1].isascii() or not parts[1].isdigit() or len(parts[1]) > 18:
        return _error(404, "no such message")
    message_id = int(parts[1])
    if request.method == "GET":
        found = await inbox.one(request.database, message_id)
        return _json(200, found) if found is not None else _error(404, "no such message")
    if request.method == "DELETE":
        if await inbox.delete(request.database, message_id):
            return PluginResponse(204, b"", JSON)
        return _error(404, "no such message")
    return None


@hookimpl
async def tenantedge_event(event: PluginEvent) -> None:
    # A deleted tenant's messages go with it: personal data kept for nobody, and a tenant created later under
    # the same id must not find them. (Best effort: with the database down they stay, and are logged.)
    if event.type == "tenant.deleted" and event.database is not None:
        try:
            removed = await inbox.delete_all(event.database)
        except BackendError as e:
            log.error("contact-form: tenant %s deleted, its messages kept: %s", event.tenant_id, e)
            return
        log.info("contact-form: tenant %s deleted, with its %d messages", event.tenant_id, removed)


async def _list(database: TenantDatabase, query: str) -> PluginResponse:
    params = dict(pair.partition("=")[::2] for pair in query.split("&") if pair)
    numbers = {}
    for name, default, top in (("page", 1, 1_000_000), ("per_page", 20, MAX_PER_PAGE)):
        raw = params.get(name, str(default))
        if not raw.isascii() or not raw.isdigit() or not 1 <= int(raw) <= top:
            return _error(422, f"{name}: expected a whole number from 1 to {top}")
        numbers[name] = int(raw)
    messages, total = await inbox.newest(database, numbers["page"], numbers["per_page"])
    return _json(200, {"messages": messages, "total": total, **numbers})


def _error(status: int, detail: str) -> PluginResponse:
    # The admin API answers a plugin's error as its own, with this as the detail.
    return PluginResponse(status, detail)


def _json(status: int, value: object) -> PluginResponse:
    return PluginResponse(status, orjson.dumps(value), JSON)


def _client_hash(config: Config, client: str | None) -> str | None:
    """A keyed hash of the visitor's address (an IPv6 address by its /64, which one person usually holds)."""
    if client is None:
        return None
    try:
        address = ipaddress.ip_address(client)
    except ValueError:
        return None
    text = str(ipaddress.ip_network(f"{address}/64", strict=False)) if address.version == 6 else str(address)
    return hmac.new(config.secret, f"client:{text}".encode(), hashlib.sha256).hexdigest()[:32]


_redis_limits: dict[tuple[str, str], RedisRateLimit] = {}


def _rate_limit(config: Config) -> RateLimit:
    if config.redis_url is None:
        return _memory
    where = (config.redis_url, config.redis_prefix)
    found = _redis_limits.get(where)
    if found is None:
        found = _redis_limits[where] = RedisRateLimit(config.redis_url, config.redis_prefix, _memory)
    return found


async def copies_sent() -> None:
    """Wait for the copies being sent by email (a worker's shutdown, or a test, may want them done)."""
    await asyncio.gather(*_sending, return_exceptions=True)


def _send_copy(config: Config, request: PostRequest, name: str, email: str, message: str) -> None:
    to = request.settings.get("to")
    if config.smtp_url is None or not to:
        return
    copy = mail.compose(
        to=to,
        domain=request.domain,
        prefix=request.settings["subject_prefix"],
        name=name,
        email=email,
        message=message,
        smtp_url=config.smtp_url,
    )
    # In a thread, after the answer: a slow mail server holds neither the visitor nor the event loop.
    task = asyncio.create_task(asyncio.to_thread(mail.send, config.smtp_url, copy))
    _sending.add(task)
    task.add_done_callback(_sending.discard)

"""Lines logged while a request is answered name it: the same id as its X-Request-Id and access log, its tenant."""

from __future__ import annotations

import logging
import logging.config
from collections.abc import Iterator

import pytest
from uvicorn.config import LOGGING_CONFIG

from tenantedge.cli import _log_config
from tenantedge.render.pages import PageRenderer
from tenantedge.telemetry.logcontext import RequestContext
from tests.http.conftest import build_app, connect


class Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []
        self.addFilter(RequestContext())
        self.setFormatter(logging.Formatter("%(message)s%(request)s"))

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture
def lines() -> Iterator[Lines]:
    handler = Lines()
    logger = logging.getLogger("tenantedge")
    logger.addHandler(handler)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)


@pytest.mark.anyio
async def test_a_failed_render_logs_the_request_id_and_tenant(lines: Lines, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("a template broke")

    monkeypatch.setattr(PageRenderer, "render_page", broken)
    async with connect(build_app(access_log="json")) as client:
        response = await client.get("codersinflow.com", "/about")
        calm = await client.get("codersinflow.com", "/")
    assert response.status_code == 500 and calm.status_code == 500
    first = response.headers["x-request-id"]
    failed = [line.splitlines()[0] for line in lines.lines if "request failed" in line]  # then the traceback
    assert failed[0] == f"host codersinflow.com path /about: request failed [request {first} tenant codersinflow]"
    assert failed[1].endswith(f"[request {calm.headers['x-request-id']} tenant codersinflow]")


def test_lines_logged_outside_a_request_name_none(lines: Lines) -> None:
    logging.getLogger("tenantedge.test").warning("starting")
    assert lines.lines == ["starting"]


def test_the_servers_log_configuration_adds_the_request_to_every_line() -> None:
    config = _log_config(LOGGING_CONFIG)
    assert config["handlers"]["default"]["filters"] == ["request"]
    assert config["formatters"]["default"]["fmt"].endswith("%(request)s")
    names = ["tenantedge", *config["loggers"]]
    saved = {name: _state(logging.getLogger(name)) for name in names}
    logging.config.dictConfig(config)  # accepted as it is, the filter's factory included
    try:
        handler = logging.getLogger("tenantedge").handlers[0]
        record = logging.LogRecord("tenantedge.x", logging.WARNING, __file__, 1, "plain", None, None)
        assert handler.filter(record) and handler.format(record).endswith("plain")
    finally:
        for name, (handlers, level, propagate) in saved.items():
            logger = logging.getLogger(name)
            logger.handlers[:] = handlers
            logger.setLevel(level)
            logger.propagate = propagate


def _state(logger: logging.Logger) -> tuple[list[logging.Handler], int, bool]:
    return list(logger.handlers), logger.level, logger.propagate

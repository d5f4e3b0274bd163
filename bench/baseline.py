"""The physical limit of the stack: a raw ASGI app that sends a fixed body, on the same uvicorn settings.

`BASELINE_BYTES` sets the body size, so it matches the page tenantedge serves in the same bench run;
`BASELINE_HEADERS` (a JSON list of [name, value] pairs) adds headers, to send byte-identical responses.
"""

from __future__ import annotations

import json
import os
from typing import Any

BODY = b"x" * int(os.environ.get("BASELINE_BYTES", "8192"))
EXTRA = [(name.encode(), value.encode()) for name, value in json.loads(os.environ.get("BASELINE_HEADERS", "[]"))]
HEADERS = [(b"content-type", b"text/html; charset=utf-8"), *EXTRA, (b"content-length", str(len(BODY)).encode())]


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        while (await receive())["type"] != "lifespan.shutdown":
            await send({"type": "lifespan.startup.complete"})
        await send({"type": "lifespan.shutdown.complete"})
        return
    await send({"type": "http.response.start", "status": 200, "headers": HEADERS})
    await send({"type": "http.response.body", "body": BODY})

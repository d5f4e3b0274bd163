"""The cyclic garbage collector paused while a whole tenants document is parsed.

Parsing an 18 MB tenants.json makes about a million objects, none of them in cycles. Each few hundred of them
start a collection, and every tenth of those walks a heap already holding the previous document: with
10,000 tenants that was more than half of an admin write's 1.9 s, and a reload stalls the event loop as long
(the parse runs in a thread, but the collector holds the GIL). Reference counting still frees everything
meanwhile; only cycles wait for the collector, which runs again as soon as the last parse ends.
"""

from __future__ import annotations

import contextlib
import gc
import threading
from collections.abc import Iterator

_lock = threading.Lock()
_parsing = 0
_was_enabled = False


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """No cyclic collection inside the block, nor in other threads while it runs; nests across threads."""
    global _parsing, _was_enabled
    with _lock:
        if _parsing == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _parsing += 1
    try:
        yield
    finally:
        with _lock:
            _parsing -= 1
            if _parsing == 0 and _was_enabled:
                gc.enable()

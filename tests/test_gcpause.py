"""The collector paused while documents are parsed: off inside, as it was after, whatever the threads do."""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator

import pytest

from tenantedge.gcpause import collector_paused


@pytest.fixture(autouse=True)
def collector_restored() -> Iterator[None]:
    enabled = gc.isenabled()
    yield
    (gc.enable if enabled else gc.disable)()


def test_paused_inside_and_running_after() -> None:
    gc.enable()
    with collector_paused():
        assert not gc.isenabled()
    assert gc.isenabled()


def test_an_exception_still_restores_it() -> None:
    gc.enable()
    with pytest.raises(ValueError, match="parse failed"), collector_paused():
        raise ValueError("parse failed")
    assert gc.isenabled()


def test_a_collector_the_app_turned_off_stays_off() -> None:
    gc.disable()
    with collector_paused():
        pass
    assert not gc.isenabled()


def test_it_runs_again_only_when_the_last_parse_in_any_thread_ends() -> None:
    gc.enable()
    inside, leave = threading.Event(), threading.Event()

    def other_parse() -> None:
        with collector_paused():
            inside.set()
            leave.wait(10)

    thread = threading.Thread(target=other_parse)
    with collector_paused():
        thread.start()
        assert inside.wait(10)
    assert not gc.isenabled(), "the other thread is still parsing"
    leave.set()
    thread.join(10)
    assert gc.isenabled()

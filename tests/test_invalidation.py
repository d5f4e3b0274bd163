"""The one owner of invalidation: every change reaches every registered cache, once, whatever one of them does."""

from __future__ import annotations

import logging

import pytest

from tenantedge.events import DRAFT_SAVED, PAGE_PUBLISHED, POST_UPDATED, TENANT_DELETED, TENANT_UPDATED, Event
from tenantedge.invalidation import EVERYTHING, Change, ChangeKind, Invalidation, change_of, change_of_key


class Recording:
    def __init__(self) -> None:
        self.seen: list[Change] = []

    def forget(self, change: Change) -> None:
        self.seen.append(change)


class Broken:
    def forget(self, change: Change) -> None:
        raise RuntimeError("this cache is broken")


@pytest.mark.parametrize(
    ("event", "change"),
    [
        (Event(TENANT_UPDATED, "acme", 3), Change(ChangeKind.DOCUMENT, "acme", 3)),
        (Event(TENANT_DELETED, "acme", 0), Change(ChangeKind.DOCUMENT, "acme", 0)),
        (Event(PAGE_PUBLISHED, "acme", 4, "/about"), Change(ChangeKind.DOCUMENT, "acme", 4)),
        (Event(POST_UPDATED, "acme", 2, "hello"), Change(ChangeKind.POSTS, "acme", 2)),
        (Event(DRAFT_SAVED, "acme", 4, "/about"), None),
    ],
    ids=["updated", "deleted", "page", "post", "draft"],
)
def test_each_event_type_becomes_one_change(event: Event, change: Change | None) -> None:
    assert change_of(event) == change


def test_keys_changed_in_redis() -> None:
    assert change_of_key(("tenant", "acme")) == Change(ChangeKind.DOCUMENT, "acme")
    assert change_of_key(("domain", "*.acme.com")) == Change(ChangeKind.HOST, host="*.acme.com")


def test_a_broken_cache_does_not_keep_the_others_serving_old_pages(caplog: pytest.LogCaptureFixture) -> None:
    first, last = Recording(), Recording()
    invalidation = Invalidation()
    invalidation.register(first, Broken(), last)
    with caplog.at_level(logging.ERROR, "tenantedge.invalidation"):
        invalidation.event(Event(TENANT_UPDATED, "acme", 2))
        invalidation.event(Event(DRAFT_SAVED, "acme", 2, "/"))
        invalidation.everything()
    assert first.seen == last.seen == [Change(ChangeKind.DOCUMENT, "acme", 2), EVERYTHING]
    assert sum("Broken could not apply" in record.getMessage() for record in caplog.records) == 2

"""`tenantedge seed-demo`: a few published posts for the demo tenants, so their blogs look real."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tenantedge.content import posts
from tenantedge.content.db import ContentDatabase

_NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
DEMO_POSTS: dict[str, list[dict[str, object]]] = {
    "codersinflow": [
        {
            "slug": "pair-programming-with-an-assistant",
            "title": "Pair programming with an assistant that read your codebase",
            "excerpt": "What changes when the other half of the pair has read every file.",
            "body": "Most assistants see one file. Ours reads the repository first, so its suggestions follow "
            "**your** conventions.\n\n## What we measured\n\n- Review rounds per change went from 2.4 to 1.6.\n"
            "- New engineers shipped their first change in two days instead of five.\n\n"
            "Read more on the [pricing page](/pricing).",
            "tags": ["product", "ai"],
            "author": "Ada Flow",
            "days": 1,
        },
        {
            "slug": "reviews-that-teach",
            "title": "Code reviews that teach",
            "excerpt": "Comments that explain why, not only what.",
            "body": "A review comment that says *why* is remembered; one that says *what* is applied and forgotten."
            "\n\n```python\n# before\nresult = [x for x in items if x]\n```\n",
            "tags": ["practice"],
            "author": "Ken Loop",
            "days": 6,
        },
        {
            "slug": "shipping-on-fridays",
            "title": "Yes, we ship on Fridays",
            "excerpt": "Small changes, fast rollbacks, calm weekends.",
            "body": "Shipping is safe when a change is small and a rollback takes a minute. "
            "Here is how our pipeline keeps both true.",
            "tags": ["engineering"],
            "author": "Ada Flow",
            "days": 13,
        },
        {
            "slug": "welcome",
            "title": "Welcome to the Coders in Flow blog",
            "excerpt": "Notes from the team building an AI pair programmer.",
            "body": "We will write here about how we build, what we measure and what we learn.",
            "tags": ["news"],
            "author": "The team",
            "days": 30,
        },
    ],
}


async def seed_demo(database: ContentDatabase) -> list[str]:
    """Write the demo posts that are missing (existing slugs are left alone); one line per post."""
    lines = []
    for tenant_id, items in DEMO_POSTS.items():
        async with database.tenant(tenant_id) as session:
            for item in items:
                raw = {key: value for key, value in item.items() if key != "days"}
                published = _NOW - timedelta(days=int(str(item["days"])))
                fields = posts.validate_post({**raw, "status": "published", "published_at": published.isoformat()})
                if await posts.by_slug(session, str(fields["slug"]), published=False) is not None:
                    lines.append(f"= {tenant_id}/{fields['slug']}: exists")
                    continue
                await posts.create(session, fields)
                lines.append(f"+ {tenant_id}/{fields['slug']}")
    return lines

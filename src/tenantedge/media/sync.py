"""`tenantedge sync` for assets: the `assets/` folder beside tenants.json carried to the origin's libraries.

Each asset a local library lists is uploaded through the target library, with the same checks as any upload;
assets the target has already are left alone (their id names their content). Carried before the documents,
so a document's references find their assets.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable

from tenantedge.errors import AssetRefused, BackendError
from tenantedge.media.library import AssetLibrary
from tenantedge.media.store import AssetStore


async def sync_assets(
    source: AssetStore, target: AssetLibrary, tenants: Iterable[str], *, by: str
) -> AsyncIterator[str]:
    """One line per asset carried or refused, and one per tenant of what was there already: `+`, `=`, `!`."""
    for tenant in sorted(tenants):
        local = await source.library(tenant)
        if not local:
            continue
        stored = await target.store.library(tenant)
        kept = 0
        for asset, record in sorted(local.items()):
            if asset in stored:
                kept += 1
                continue
            opened = await source.open(tenant, asset)
            if opened is None:
                yield f"! asset {tenant}/{asset}: listed in its index.json, but the file is missing"
                continue
            data = b"".join([chunk async for chunk in opened.chunks])
            try:
                uploaded = await target.upload(tenant, record.name, data, by, new_tenant=True)
            except (AssetRefused, BackendError) as e:
                yield f"! asset {tenant}/{asset} ({record.name}): not carried: {e}"
                continue
            if uploaded.record.id != asset:
                yield f"! asset {tenant}/{asset} ({record.name}): its content is {uploaded.record.id}; fix the index"
                continue
            yield f"+ asset {tenant}/{asset} ({record.name}, {record.size:,} bytes)"
        if kept:
            yield f"= assets {tenant}: {kept} already stored"

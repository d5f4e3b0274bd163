"""Plugins: installable packages that add sections, page markup, form handlers and admin routes, per tenant.

What a plugin author imports; the hooks themselves are specified in `tenantedge.plugins.hookspecs`.
"""

from tenantedge.plugins.contract import AdminRequest, Fragment, PageInfo, PluginEvent, PluginResponse, PostRequest
from tenantedge.plugins.database import PluginSession, TenantDatabase
from tenantedge.plugins.hookspecs import hookimpl
from tenantedge.plugins.manifest import Manifest

__all__ = [
    "AdminRequest",
    "Fragment",
    "Manifest",
    "PageInfo",
    "PluginEvent",
    "PluginResponse",
    "PluginSession",
    "PostRequest",
    "TenantDatabase",
    "hookimpl",
]

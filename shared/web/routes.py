"""Every route an app really serves, flattened through included routers (FastAPI includes
routers lazily, so `app.routes` alone does not list them)."""

from __future__ import annotations

from collections.abc import Iterator

from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts


def api_routes(app: FastAPI) -> Iterator[tuple[str, str, APIRoute]]:
    """(method, path, route) for every API route of the app, prefixes included."""
    for ctx in iter_route_contexts(app.routes):
        if isinstance(ctx.original_route, APIRoute):
            for method in sorted(ctx.methods or ()):
                yield method, ctx.path, ctx.original_route

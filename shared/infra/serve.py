"""`python -m services.<name>`: run one service (API + subscribers + worker) with uvicorn."""

from __future__ import annotations

import importlib

import uvicorn

from shared.infra.logging import configure_logging
from shared.infra.runtime import Settings


def serve(name: str) -> None:
    configure_logging(name)
    settings = Settings.load(name)
    runtime, app = importlib.import_module(f"services.{name}.main").build(settings)
    # Forwarded headers are handled by the app itself (WWC_TRUSTED_PROXIES), in tests too.
    uvicorn.run(app, host=settings.service.http_host, port=settings.service.http_port,
                log_config=None, access_log=False, proxy_headers=False)

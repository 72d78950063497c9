"""The HTTP service (`huifang serve`): the integration API under /api/v1 over the same application
(`huifang.projections.open_app`) and access policy as the CLI. Imported only by `huifang serve`:
FastAPI, starlette and uvicorn stay out of every other command's start-up."""
from __future__ import annotations

from .app import create_app

__all__ = ["create_app"]

"""ASGI entry point: `uvicorn hfcourse.web.asgi:app`."""

from .app import create_app

app = create_app()

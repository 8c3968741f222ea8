"""ASGI entry for multi-process serving (``warehouse serve --workers N``); settings from env."""

from warehouse.config import load_settings
from warehouse.entrypoints.api.app import create_app

app = create_app(load_settings())

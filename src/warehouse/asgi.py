"""ASGI entry for multi-process serving (``warehouse serve --workers N``); settings from env."""

from warehouse.app import create_app
from warehouse.core.config import load_settings

app = create_app(load_settings())

"""Driver errors.

Exception tree::

    DriverError                  anything a driver reports
    ├── DeviceUnavailable        the device is absent, unplugged or failed; reopen later
    ├── DriverNotInstalled       the hardware library is missing; names the extra to install
    └── DriverConfigError        a driver was given parameters it cannot use
"""

from __future__ import annotations


class DriverError(Exception):
    """Base of every driver error."""


class DeviceUnavailable(DriverError):
    """The device is absent, unplugged or failed; the supervisor reopens it with backoff."""


class DriverNotInstalled(DriverError):
    """A backend's hardware library is not installed."""


class DriverConfigError(DriverError):
    """A driver was given parameters it cannot use; ``field`` names the parameter if one."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field

"""What the access API asks of the composition root (``warehouse.bootstrap.Service``)."""

from __future__ import annotations

from typing import Annotated, Protocol

from fastapi import Depends

from warehouse.access.adapters.credentials import TokenSigner
from warehouse.access.service.accounts import LoginPolicy
from warehouse.access.service.ports import AccessUnitOfWork, Credentials
from warehouse.core.api.deps import get_service
from warehouse.core.wiring import Wiring


class AccessService(Wiring[AccessUnitOfWork], Protocol):
    """Settings and units of work, and the credentials, token signer and login policy."""

    @property
    def credentials(self) -> Credentials: ...
    @property
    def tokens(self) -> TokenSigner | None: ...
    @property
    def login_policy(self) -> LoginPolicy: ...


ServiceDep = Annotated[AccessService, Depends(get_service)]

"""What the pages ask of the composition root: the access service's credentials and policies,
and the barcode parser the stock search reads codes with."""

from __future__ import annotations

from typing import Annotated, Protocol

from fastapi import Depends

from warehouse.access.api.deps import AccessService
from warehouse.catalog.service.ports import CodeParser
from warehouse.core.api.deps import get_service


class WebService(AccessService, Protocol):
    @property
    def parser(self) -> CodeParser: ...


ServiceDep = Annotated[WebService, Depends(get_service)]

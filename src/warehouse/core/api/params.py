"""Input types shared by request bodies, query and path parameters.

Every string that reaches the database refuses NUL (which PostgreSQL cannot store in text) with a
422 naming the field, and every id is within the signed 64 bits the database holds."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query
from pydantic import AfterValidator, BaseModel, ConfigDict, Field

MAX_ID = 2**63 - 1


def _storable(value: str) -> str:
    if "\x00" in value:
        raise ValueError("must not contain a NUL character (\\u0000)")
    return value


Storable = AfterValidator(_storable)


#: Codes of products and locations: letters, digits and a little punctuation.
Code = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:/-]*$")]


#: A query or path value naming a product or location: bounded and storable (an unknown one is
#: a 404, not a 422, so no pattern).
Ref = Annotated[str, Field(min_length=1, max_length=64), Storable]


#: The reference of an order, return, count or transfer: shaped like a code.
OrderRef = Annotated[
    str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:/-]*$")
]

#: Free text fields: names, notes, aliases, lots and serials.
Text200 = Annotated[str, Field(min_length=1, max_length=200), Storable]


Text64 = Annotated[str, Field(min_length=1, max_length=64), Storable]


Text128 = Annotated[str, Field(min_length=1, max_length=128), Storable]


Text512 = Annotated[str, Field(min_length=1, max_length=512), Storable]


Note = Annotated[str, Field(max_length=500), Storable]


#: A ledger or table id.
Id = Annotated[int, Field(ge=1, le=MAX_ID)]


#: How many items a listing's page holds.
Limit = Annotated[int, Query(ge=1, le=500)]


#: Where a listing's page starts: the ``next_cursor`` of the page before.
Cursor = Annotated[str | None, Query(max_length=512, description="next_cursor of the last page")]


class RequestBody(BaseModel):
    """The base of every request body: a field the API does not know is a 422, not ignored."""

    model_config = ConfigDict(extra="forbid")

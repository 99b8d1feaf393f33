"""What request handlers depend on (FastAPI `Depends`): the application object of this worker.

Handlers declare `pt: AppDep`; helpers that only have the request call `papertide(request)`."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from papertide.application import Papertide


def papertide(request: Request) -> Papertide:
    return request.app.state.papertide


AppDep = Annotated[Papertide, Depends(papertide)]

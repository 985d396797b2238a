"""WebSocket tickets: a browser cannot put a key in a WebSocket's headers, and a key in its URL
ends up in traces and access logs, so it trades the key for a short-lived single-use ticket."""

from __future__ import annotations

from typing import Annotated

from fastapi import Request
from pydantic import BaseModel, Field

from ..auth import Principal, issue_ticket
from ..permissions import Permission, requires
from .schemas import ReplyRouter

router = ReplyRouter(prefix="/v1/ws-tickets", tags=["auth"])


class WebSocketTicket(BaseModel):
    ticket: str = Field(description="Pass as ?ticket= on one WebSocket handshake; it works once")
    expires_in: float = Field(description="Seconds the ticket stays valid")


@router.post("", status_code=201)
async def create_ticket(
    request: Request, principal: Annotated[Principal, requires(Permission.JOBS_READ)]
) -> WebSocketTicket:
    """A ticket for one WebSocket connection (e.g. ``/v1/jobs/{id}/events?ticket=...``) as the
    caller's key; refused once used, once expired, or once the key is revoked."""
    state = request.app.state
    valid = state.settings.ws_ticket_seconds
    return WebSocketTicket(ticket=await issue_ticket(state.pool, principal, valid), expires_in=valid)

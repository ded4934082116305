"""Authentication and thread ownership for LangGraph Server and ``langgraph dev``.

Named as ``auth`` in ``langgraph.json``. ``langgraph dev`` itself has no authentication: any
client that reaches its port can list every thread and read it. With this hook:

* ``CROSSROADS_SERVER_TOKENS`` unset: requests are accepted as the user ``anonymous`` (what
  ``langgraph dev`` does without a hook; fine on 127.0.0.1, nowhere else);
* ``CROSSROADS_SERVER_TOKENS="alice=<token>,bob=<token>"``: every request needs
  ``Authorization: Bearer <token>`` (401 otherwise), and each user sees, runs and changes only
  the threads, runs and assistants they created. The default assistants (one per graph) stay
  readable and runnable by everyone, and changeable by no one.
"""

from __future__ import annotations

import hmac
from typing import Any

from langgraph_sdk import Auth

from crossroads.settings import server_tokens_from_env

ANONYMOUS = "anonymous"
OWNER_KEY = "owner"

auth = Auth()


@auth.authenticate
async def authenticate(authorization: str | None) -> str:
    """The user a request's bearer token names; 401 for a missing or unknown token."""
    tokens = server_tokens_from_env()
    if not tokens:
        return ANONYMOUS
    scheme, _, given = (authorization or "").partition(" ")
    if scheme.lower() == "bearer" and given:
        for token, user in tokens.items():
            if hmac.compare_digest(token.encode(), given.strip().encode()):
                return user
    raise Auth.exceptions.HTTPException(status_code=401, detail="a valid bearer token is needed")


@auth.on
async def owner_only(ctx: Auth.types.AuthContext, value: Any) -> dict[str, str]:
    """Stamp what a user creates with their name, and show each user only their own."""
    if isinstance(value, dict):
        metadata = value.setdefault("metadata", {})
        if isinstance(metadata, dict):
            metadata[OWNER_KEY] = ctx.user.identity
    return {OWNER_KEY: ctx.user.identity}


@auth.on.assistants.read
async def assistants_are_readable(ctx: Auth.types.AuthContext, value: Any) -> bool:
    """Any user may read and run an assistant (the default ones have no owner)."""
    return True


@auth.on.assistants.search
async def assistants_are_searchable(ctx: Auth.types.AuthContext, value: Any) -> bool:
    return True

"""Project secrets, write-only: list keys, set one, delete one. Values never leave the
server except to the project's own tasks (``secrets.server``)."""

from __future__ import annotations

from typing import Any

from digpy.api.errors import bad_request, not_found
from digpy.api.projects import live_project
from digpy.api.request import ApiContext, ApiRequest
from digpy.api.routes import Endpoint, Reply
from digpy.secrets.local import is_valid_key
from digpy.secrets.server import ProjectSecrets


def _secrets(ctx: ApiContext, req: ApiRequest) -> ProjectSecrets:
    with ctx.store.read() as tx:
        project = live_project(tx, req.path_id())
    return ProjectSecrets(ctx.store, ctx.cipher, project.id)


def _key(req: ApiRequest) -> str:
    key = req.path["key"]
    if not is_valid_key(key):
        raise bad_request(f"invalid secret key {key!r}: use letters, digits, '_' and '-' in "
                          "dot-separated parts such as 'td.apikey'")
    return key


def list_secrets(ctx: ApiContext, req: ApiRequest) -> dict[str, Any]:
    return {"secrets": [{"key": k} for k in _secrets(ctx, req).list_keys()]}


def put_secret(ctx: ApiContext, req: ApiRequest) -> Reply:
    key, value = _key(req), req.json().get("value")
    if not isinstance(value, str):
        raise bad_request('the body must be {"value": "..."} with a string value')
    _secrets(ctx, req).set(key, value, now=ctx.clock.now())
    return Reply(status=204)


def delete_secret(ctx: ApiContext, req: ApiRequest) -> Reply:
    key = _key(req)
    if not _secrets(ctx, req).delete(key):
        raise not_found(f"project {req.path['id']} has no secret {key!r}")
    return Reply(status=204)


ENDPOINTS = [
    Endpoint(method="GET", path="/api/projects/{id}/secrets", handler=list_secrets,
             summary="List the project's secret keys (never values)", returns="SecretList"),
    Endpoint(method="PUT", path="/api/projects/{id}/secrets/{key}", handler=put_secret,
             body="json", summary="Set a secret", returns="none"),
    Endpoint(method="DELETE", path="/api/projects/{id}/secrets/{key}", handler=delete_secret,
             summary="Delete a secret", returns="none"),
]

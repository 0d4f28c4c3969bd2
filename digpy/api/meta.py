"""``/api/version``, ``/api/version/check`` and ``/api/openapi.json`` (built from the route
table, so it lists exactly what the server serves)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from digpy.api.request import ApiContext, ApiRequest
from digpy.api.routes import Endpoint

_BODIES = {
    "json": {"content": {"application/json": {"schema": {"type": "object"}}}},
    "gzip": {"content": {"application/gzip": {"schema": {"type": "string",
                                                         "format": "binary"}}}},
}
_MEDIA = {"gzip": "application/gzip", "text": "text/plain"}
_ERROR = {"description": "Error", "content": {"application/json": {"schema": {
    "$ref": "#/components/schemas/Error"}}}}


def version(ctx: ApiContext, req: ApiRequest) -> dict[str, Any]:
    return {"version": ctx.version}


def version_check(ctx: ApiContext, req: ApiRequest) -> dict[str, Any]:
    return {"serverVersion": ctx.version, "upgradeRecommended": False, "apiCompatible": True}


def _operation(endpoint: Endpoint) -> dict[str, Any]:
    params: list[dict[str, Any]] = [
        {"name": name.strip("{}"), "in": "path", "required": True,
         "schema": {"type": "string"}}
        for name in endpoint.path.split("/") if name.startswith("{")]
    params += [{"name": q, "in": "query", "required": False, "schema": {"type": "string"}}
               for q in endpoint.query]
    media = _MEDIA.get(endpoint.returns, "application/json")
    ok = ({"description": "No content"} if endpoint.returns == "none" else
          {"description": endpoint.returns, "content": {media: {"schema": {
              "type": "string" if media != "application/json" else "object"}}}})
    operation: dict[str, Any] = {
        "summary": endpoint.summary, "parameters": params,
        "responses": {"204" if endpoint.returns == "none" else "200": ok,
                      "400": _ERROR, "401": _ERROR, "404": _ERROR, "503": _ERROR},
    }
    if endpoint.body:
        operation["requestBody"] = _BODIES[endpoint.body]
    return operation


def openapi_document(endpoints: Sequence[Endpoint], version_text: str) -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    for endpoint in endpoints:
        paths.setdefault(endpoint.path, {})[endpoint.method.lower()] = _operation(endpoint)
    return {
        "openapi": "3.1.0",
        "info": {"title": "digpy REST API", "version": version_text,
                 "description": "Digdag 0.10's REST API as digpy serves it; see docs/api.md."},
        "paths": paths,
        "components": {
            "schemas": {"Error": {"type": "object", "required": ["message", "status"],
                                  "properties": {"message": {"type": "string"},
                                                 "status": {"type": "integer"}}}},
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
        "security": [{"bearer": []}],
    }


def meta_endpoints(all_endpoints: Sequence[Endpoint], version_text: str) -> list[Endpoint]:
    listed = [
        Endpoint(method="GET", path="/api/version", handler=version,
                 summary="The server's version", returns="Version"),
        Endpoint(method="GET", path="/api/version/check", handler=version_check,
                 summary="Client compatibility", returns="VersionCheck",
                 query=("client_version",)),
    ]
    document_holder: list[dict[str, Any]] = []

    def openapi(ctx: ApiContext, req: ApiRequest) -> dict[str, Any]:
        return document_holder[0]

    spec = Endpoint(method="GET", path="/api/openapi.json", handler=openapi,
                    summary="This document", returns="OpenAPI")
    document_holder.append(openapi_document([*all_endpoints, *listed, spec], version_text))
    return [*listed, spec]

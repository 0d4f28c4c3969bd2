"""Workflows as stored definitions: the raw top-level config plus a content hash.

Digdag stores a workflow's config and recompiles it whenever an attempt starts; digpy does
the same, so a retry with ``--keep-revision`` runs exactly what the first attempt ran.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import Any

from digpy.dsl.model import Workflow
from digpy.model.records import NewWorkflowDefinition, WorkflowDefinition


def plain(value: Any) -> Any:
    """A JSON-ready deep copy (loaded ConfigMaps become dicts; tuples become lists)."""
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


def content_hash(data: Any) -> str:
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def to_definition(workflow: Workflow) -> NewWorkflowDefinition:
    body = {
        "name": workflow.name,
        "timezone": workflow.timezone,
        "source": workflow.source,
        "config": plain(workflow.config),
    }
    return NewWorkflowDefinition(
        name=workflow.name, timezone=workflow.timezone, definition=body, hash=content_hash(body)
    )


def revision_hash(definitions: Sequence[NewWorkflowDefinition]) -> str:
    return content_hash(sorted((d.name, d.hash) for d in definitions))


def from_definition(definition: WorkflowDefinition) -> Workflow:
    """Recompile a stored definition. :raises ConfigError: it no longer compiles."""
    from digpy.dsl.compiler import compile_workflow

    body = definition.definition
    return compile_workflow(body["name"], body["config"], source=body.get("source"))

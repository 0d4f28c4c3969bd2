"""digpy: run Digdag-style ``.dig`` workflows locally or on a schedule.

Importing ``digpy`` is cheap on purpose: the CLI must answer ``--help`` fast, so
heavy modules (SQLAlchemy, the engine) are imported only where they are used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = ["Result", "Workflow", "__version__"]

if TYPE_CHECKING:  # pragma: no cover
    from digpy.api_python import Result, Workflow


def __getattr__(name: str) -> Any:
    # Lazy re-exports keep `import digpy` free of SQLAlchemy and the engine.
    if name in ("Workflow", "Result"):
        from digpy import api_python

        return getattr(api_python, name)
    raise AttributeError(f"module 'digpy' has no attribute {name!r}")

"""Imports a package that is not installed: the error must name that package."""

import not_installed_anywhere  # noqa: F401


def run() -> None:
    pass

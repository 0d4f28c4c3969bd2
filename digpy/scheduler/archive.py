"""Project archives for ``digpy push``: a tar.gz of the project directory (dotfiles and
dot-directories left out, as Digdag does), and its extraction for the daemon's workers."""

from __future__ import annotations

import hashlib
import io
import tarfile
from pathlib import Path

from digpy.errors import ConfigError
from digpy.scheduler.sync import Archive

MAX_ARCHIVE_BYTES = 2 * 1024 * 1024  # Digdag's api.max_archive_total_size_limit default


def make_archive(project_dir: Path) -> Archive:
    """:raises ConfigError: the archive would exceed ``MAX_ARCHIVE_BYTES``."""
    root = project_dir.resolve()
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for path in sorted(root.rglob("*")):
            relative = path.relative_to(root)
            if any(part.startswith(".") for part in relative.parts) or path.is_symlink():
                continue
            if path.is_file():
                tar.add(path, arcname=str(relative), recursive=False)
    data = buffer.getvalue()
    if len(data) > MAX_ARCHIVE_BYTES:
        raise ConfigError(f"{root} archives to {len(data)} bytes, over the "
                          f"{MAX_ARCHIVE_BYTES}-byte limit; leave large files out")
    return Archive(data=data, hash=hashlib.sha256(data).hexdigest())


def extract_archive(data: bytes, dest: Path) -> Path:
    """Unpack into ``dest`` (created; a finished extraction is reused). The ``data`` filter
    refuses absolute paths, ``..`` and links out of ``dest``."""
    marker = dest / ".digpy-extracted"
    if marker.exists():
        return dest
    partial = dest.with_name(dest.name + ".partial")
    partial.mkdir(parents=True, exist_ok=True)
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        tar.extractall(partial, filter="data")
    (partial / ".digpy-extracted").touch()
    partial.replace(dest)  # atomic: a crash never leaves a half-extracted revision in use
    return dest

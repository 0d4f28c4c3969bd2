"""Client commands: look at sessions, attempts, tasks and logs, and start, kill, backfill.

Every command reads through a ``Backend`` (backend.py): ``LocalBackend`` on a project's
``.digpy/state.db`` today; an ``HttpBackend`` for a digpy server (``-e URL``) implements the
same protocol and returns the same views, so output shapes do not depend on where the state
lives. One module per command group; output.py renders every listing.
"""

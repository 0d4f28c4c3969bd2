"""One open SQL transaction with a repository per aggregate."""

from __future__ import annotations

import sqlalchemy as sa

from digpy.store.base import Tx
from digpy.store.sql.attempts import SqlAttemptRepo
from digpy.store.sql.backfills import SqlBackfillRepo
from digpy.store.sql.browse import SqlBrowseRepo
from digpy.store.sql.leases import SqlLeaseRepo
from digpy.store.sql.projects import SqlProjectRepo
from digpy.store.sql.retention import SqlRetentionRepo
from digpy.store.sql.schedules import SqlArchiveRepo, SqlScheduleRepo
from digpy.store.sql.secrets import SqlSecretRepo
from digpy.store.sql.sessions import SqlSessionRepo
from digpy.store.sql.tasks import SqlTaskRepo


class SqlTx(Tx):
    def __init__(self, conn: sa.Connection) -> None:
        self.conn = conn
        self.projects = SqlProjectRepo(conn)
        self.sessions = SqlSessionRepo(conn)
        self.attempts = SqlAttemptRepo(conn)
        self.tasks = SqlTaskRepo(conn)
        self.schedules = SqlScheduleRepo(conn)
        self.archives = SqlArchiveRepo(conn)
        self.retention = SqlRetentionRepo(conn)
        self.leases = SqlLeaseRepo(conn)
        self.backfills = SqlBackfillRepo(conn)
        self.secrets = SqlSecretRepo(conn)
        self.browse = SqlBrowseRepo(conn)

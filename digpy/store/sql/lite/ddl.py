"""The SQLite schema as plain DDL, so a new local store is created without importing
SQLAlchemy or Alembic (both cost more start-up time than a whole one-task run may take).

It is ``schema.metadata`` compiled for SQLite, which a test recompiles and compares, and
the database is stamped with ``schema.HEAD`` so Alembic takes over for later migrations.
"""

from __future__ import annotations

DDL = """
CREATE TABLE projects (
  id INTEGER NOT NULL,
  name VARCHAR(255) NOT NULL,
  path TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  deleted_at BIGINT,
  CONSTRAINT pk_projects PRIMARY KEY (id),
  CONSTRAINT uq_projects_name UNIQUE (name)
);
CREATE TABLE revisions (
  id INTEGER NOT NULL,
  project_id INTEGER NOT NULL,
  name VARCHAR(255) NOT NULL,
  hash VARCHAR(64) NOT NULL,
  default_params JSON NOT NULL,
  created_at BIGINT NOT NULL,
  CONSTRAINT pk_revisions PRIMARY KEY (id),
  CONSTRAINT uq_revisions_project_id_name UNIQUE (project_id, name),
  CONSTRAINT fk_revisions_project_id_projects
    FOREIGN KEY(project_id) REFERENCES projects (id)
);
CREATE INDEX ix_revisions_project_id_hash ON revisions (project_id, hash);
CREATE TABLE sessions (
  id INTEGER NOT NULL,
  project_id INTEGER NOT NULL,
  workflow_name VARCHAR(255) NOT NULL,
  session_time BIGINT NOT NULL,
  uuid VARCHAR(36) NOT NULL,
  last_attempt_id INTEGER,
  created_at BIGINT NOT NULL,
  CONSTRAINT pk_sessions PRIMARY KEY (id),
  CONSTRAINT uq_sessions_project_id_workflow_name_session_time
    UNIQUE (project_id, workflow_name, session_time),
  CONSTRAINT fk_sessions_project_id_projects
    FOREIGN KEY(project_id) REFERENCES projects (id)
);
CREATE TABLE workflow_definitions (
  id INTEGER NOT NULL,
  revision_id INTEGER NOT NULL,
  project_id INTEGER NOT NULL,
  name VARCHAR(255) NOT NULL,
  timezone VARCHAR(64) NOT NULL,
  definition JSON NOT NULL,
  hash VARCHAR(64) NOT NULL,
  CONSTRAINT pk_workflow_definitions PRIMARY KEY (id),
  CONSTRAINT uq_workflow_definitions_revision_id_name UNIQUE (revision_id, name),
  CONSTRAINT fk_workflow_definitions_revision_id_revisions
    FOREIGN KEY(revision_id) REFERENCES revisions (id),
  CONSTRAINT fk_workflow_definitions_project_id_projects
    FOREIGN KEY(project_id) REFERENCES projects (id)
);
CREATE TABLE attempts (
  id INTEGER NOT NULL,
  session_id INTEGER NOT NULL,
  name VARCHAR(255) NOT NULL,
  "index" INTEGER NOT NULL,
  params JSON NOT NULL,
  status VARCHAR(16) NOT NULL,
  "trigger" VARCHAR(16) NOT NULL,
  who VARCHAR(255) NOT NULL,
  workflow_definition_id INTEGER NOT NULL,
  revision_name VARCHAR(255) NOT NULL,
  timezone VARCHAR(64) NOT NULL,
  created_at BIGINT NOT NULL,
  finished_at BIGINT,
  cancel_requested BOOLEAN NOT NULL,
  task_limit INTEGER NOT NULL,
  result JSON,
  error JSON,
  locked_by VARCHAR(255),
  lock_expires_at BIGINT,
  lease_epoch INTEGER DEFAULT 0 NOT NULL,
  idempotency_key VARCHAR(255),
  CONSTRAINT pk_attempts PRIMARY KEY (id),
  CONSTRAINT uq_attempts_session_id_name UNIQUE (session_id, name),
  CONSTRAINT fk_attempts_session_id_sessions
    FOREIGN KEY(session_id) REFERENCES sessions (id),
  CONSTRAINT fk_attempts_workflow_definition_id_workflow_definitions
    FOREIGN KEY(workflow_definition_id) REFERENCES workflow_definitions (id)
);
CREATE INDEX ix_attempts_status ON attempts (status);
CREATE UNIQUE INDEX ix_attempts_idempotency_key ON attempts (idempotency_key);
CREATE TABLE resuming_tasks (
  id INTEGER NOT NULL,
  attempt_id INTEGER NOT NULL,
  full_name TEXT NOT NULL,
  parent_full_name TEXT NOT NULL,
  upstream_full_names JSON NOT NULL,
  is_group BOOLEAN NOT NULL,
  operator VARCHAR(64),
  config JSON NOT NULL,
  output JSON NOT NULL,
  CONSTRAINT pk_resuming_tasks PRIMARY KEY (id),
  CONSTRAINT fk_resuming_tasks_attempt_id_attempts
    FOREIGN KEY(attempt_id) REFERENCES attempts (id)
);
CREATE INDEX ix_resuming_tasks_attempt_id ON resuming_tasks (attempt_id);
CREATE TABLE tasks (
  id INTEGER NOT NULL,
  attempt_id INTEGER NOT NULL,
  parent_id INTEGER,
  full_name TEXT NOT NULL,
  is_group BOOLEAN NOT NULL,
  operator VARCHAR(64),
  state SMALLINT NOT NULL,
  flags INTEGER NOT NULL,
  upstream_ids JSON NOT NULL,
  config JSON NOT NULL,
  export_params JSON NOT NULL,
  store_params JSON NOT NULL,
  reset_keys JSON NOT NULL,
  state_params JSON NOT NULL,
  subtask_config JSON,
  report JSON NOT NULL,
  error JSON,
  retry_count INTEGER NOT NULL,
  retry_at BIGINT,
  started_at BIGINT,
  finished_at BIGINT,
  log_path TEXT,
  CONSTRAINT pk_tasks PRIMARY KEY (id),
  CONSTRAINT fk_tasks_attempt_id_attempts FOREIGN KEY(attempt_id) REFERENCES attempts (id)
);
CREATE INDEX ix_tasks_attempt_id_full_name ON tasks (attempt_id, full_name);
CREATE INDEX ix_tasks_attempt_id_state ON tasks (attempt_id, state);
CREATE INDEX ix_tasks_parent_id ON tasks (parent_id);
CREATE TABLE schedules (
  id INTEGER NOT NULL,
  project_id INTEGER NOT NULL,
  workflow_name VARCHAR(255) NOT NULL,
  workflow_definition_id INTEGER NOT NULL,
  next_run_time BIGINT NOT NULL,
  next_schedule_time BIGINT NOT NULL,
  last_session_time BIGINT,
  disabled_at BIGINT,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  CONSTRAINT pk_schedules PRIMARY KEY (id),
  CONSTRAINT uq_schedules_project_id_workflow_name UNIQUE (project_id, workflow_name),
  CONSTRAINT fk_schedules_project_id_projects FOREIGN KEY(project_id) REFERENCES projects (id),
  CONSTRAINT fk_schedules_workflow_definition_id_workflow_definitions
    FOREIGN KEY(workflow_definition_id) REFERENCES workflow_definitions (id)
);
CREATE INDEX ix_schedules_next_run_time ON schedules (next_run_time);
CREATE TABLE revision_archives (
  revision_id INTEGER NOT NULL,
  hash VARCHAR(64) NOT NULL,
  data BLOB NOT NULL,
  CONSTRAINT pk_revision_archives PRIMARY KEY (revision_id),
  CONSTRAINT fk_revision_archives_revision_id_revisions
    FOREIGN KEY(revision_id) REFERENCES revisions (id)
);
CREATE TABLE daemons (
  id VARCHAR(255) NOT NULL,
  host VARCHAR(255) NOT NULL,
  pid INTEGER NOT NULL,
  started_at BIGINT NOT NULL,
  heartbeat_at BIGINT NOT NULL,
  CONSTRAINT pk_daemons PRIMARY KEY (id)
);
CREATE TABLE secrets (
  id INTEGER NOT NULL,
  project_id INTEGER NOT NULL,
  "key" VARCHAR(255) NOT NULL,
  value BLOB NOT NULL,
  updated_at BIGINT NOT NULL,
  CONSTRAINT pk_secrets PRIMARY KEY (id),
  CONSTRAINT uq_secrets_project_id_key UNIQUE (project_id, "key"),
  CONSTRAINT fk_secrets_project_id_projects FOREIGN KEY(project_id) REFERENCES projects (id)
);
CREATE TABLE backfills (
  id INTEGER NOT NULL,
  schedule_id INTEGER NOT NULL,
  project_id INTEGER NOT NULL,
  workflow_name VARCHAR(255) NOT NULL,
  workflow_definition_id INTEGER NOT NULL,
  attempt_name VARCHAR(255) NOT NULL,
  created_at BIGINT NOT NULL,
  finished_at BIGINT,
  CONSTRAINT pk_backfills PRIMARY KEY (id),
  CONSTRAINT fk_backfills_project_id_projects FOREIGN KEY(project_id) REFERENCES projects (id),
  CONSTRAINT fk_backfills_workflow_definition_id_workflow_definitions
    FOREIGN KEY(workflow_definition_id) REFERENCES workflow_definitions (id)
);
CREATE INDEX ix_backfills_finished_at ON backfills (finished_at);
CREATE TABLE backfill_slots (
  backfill_id INTEGER NOT NULL,
  position INTEGER NOT NULL,
  session_time BIGINT NOT NULL,
  attempt_id INTEGER,
  CONSTRAINT pk_backfill_slots PRIMARY KEY (backfill_id, position),
  CONSTRAINT fk_backfill_slots_backfill_id_backfills
    FOREIGN KEY(backfill_id) REFERENCES backfills (id)
);
CREATE TABLE alembic_version (
  version_num VARCHAR(32) NOT NULL,
  CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num)
);
"""

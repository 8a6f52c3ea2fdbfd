// The one schema of the store, as an ordered list of migrations applied by both drivers (PGlite and PostgreSQL run
// the same SQL). A migration is never edited once released: add a new one. Applied versions are recorded in
// schema_migrations; concurrent starters (several workers) serialise on an advisory lock, so each runs once.
import type { SqlDriver } from './sql.js';

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'initial schema',
    sql: `
CREATE TABLE webhook_deliveries (
  id          text PRIMARY KEY,
  event       text NOT NULL,
  received_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE runs (
  id           text PRIMARY KEY,
  kind         text NOT NULL CHECK (kind IN ('generate', 'revise', 'plan', 'apply')),
  key          text NOT NULL,
  repo         text NOT NULL,
  number       integer NOT NULL,
  status       text NOT NULL CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'cancelled', 'needs-human')),
  stage        text NOT NULL,
  attempt      integer NOT NULL DEFAULT 0,
  triggered_by text,
  input        jsonb NOT NULL DEFAULT '{}',
  error        text,
  usage        jsonb,
  links        jsonb NOT NULL DEFAULT '{}',
  worker_id    text,
  heartbeat_at timestamptz,
  created_at   timestamptz NOT NULL DEFAULT now(),
  updated_at   timestamptz NOT NULL DEFAULT now(),
  started_at   timestamptz,
  finished_at  timestamptz
);
CREATE INDEX runs_key_idx ON runs (key, created_at DESC);
CREATE INDEX runs_status_idx ON runs (status);

CREATE TABLE run_events (
  id          bigserial PRIMARY KEY,
  run_id      text NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  stage       text NOT NULL,
  status      text NOT NULL,
  duration_ms integer,
  message     text,
  at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX run_events_run_idx ON run_events (run_id, id);

CREATE TABLE jobs (
  id              text PRIMARY KEY,
  kind            text NOT NULL,
  key             text NOT NULL,
  payload         jsonb NOT NULL,
  state           text NOT NULL CHECK (state IN ('queued', 'active', 'completed', 'failed')),
  attempt         integer NOT NULL DEFAULT 0,
  max_attempts    integer NOT NULL,
  run_after       timestamptz NOT NULL DEFAULT now(),
  locked_until    timestamptz,
  worker_id       text,
  last_error      text,
  idempotency_key text UNIQUE,
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX jobs_runnable_idx ON jobs (state, run_after, created_at);
CREATE INDEX jobs_key_idx ON jobs (key, state);

CREATE TABLE locks (
  repo        text NOT NULL,
  project     text NOT NULL,
  workspace   text NOT NULL,
  pr          integer NOT NULL,
  run_id      text NOT NULL,
  acquired_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (repo, project, workspace)
);

CREATE TABLE saved_plans (
  id         text PRIMARY KEY,
  repo       text NOT NULL,
  pr         integer NOT NULL,
  project    text NOT NULL,
  workspace  text NOT NULL,
  head_sha   text NOT NULL,
  base_sha   text NOT NULL,
  plan_hash  text NOT NULL,
  summary    jsonb NOT NULL,
  run_id     text NOT NULL,
  size_bytes integer NOT NULL,
  key_id     text NOT NULL,
  nonce      bytea NOT NULL,
  auth_tag   bytea NOT NULL,
  ciphertext bytea NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX saved_plans_target_idx ON saved_plans (repo, pr, project, workspace, created_at DESC);
CREATE INDEX saved_plans_created_idx ON saved_plans (created_at);

CREATE TABLE overrides (
  id         bigserial PRIMARY KEY,
  repo       text NOT NULL,
  pr         integer NOT NULL,
  rule_id    text NOT NULL,
  by_login   text NOT NULL,
  at         text NOT NULL,
  reason     text NOT NULL,
  plan_hash  text,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX overrides_pr_idx ON overrides (repo, pr, plan_hash);

CREATE TABLE audit_log (
  id      bigserial PRIMARY KEY,
  at      timestamptz NOT NULL DEFAULT now(),
  actor   text NOT NULL,
  action  text NOT NULL,
  repo    text NOT NULL,
  target  text NOT NULL,
  details jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_log_repo_idx ON audit_log (repo, id DESC);

CREATE TABLE idempotency_keys (
  key        text PRIMARY KEY,
  value      text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
`,
  },
  {
    version: 2,
    name: 'pull request links and requesters',
    sql: `
CREATE TABLE pull_request_links (
  repo       text NOT NULL,
  pr         integer NOT NULL,
  issue      integer NOT NULL,
  run_id     text NOT NULL,
  branch     text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (repo, pr)
);
CREATE INDEX pull_request_links_issue_idx ON pull_request_links (repo, issue);

CREATE TABLE requesters (
  repo   text NOT NULL,
  issue  integer NOT NULL,
  login  text NOT NULL,
  reason text NOT NULL CHECK (reason IN ('issue-author', 'labeller', 'command', 'pusher', 'commit-author', 'commit-committer')),
  detail text NOT NULL DEFAULT '',
  at     timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (repo, issue, login, reason, detail)
);
`,
  },
  {
    version: 3,
    name: 'drift status per project',
    sql: `
CREATE TABLE drift_status (
  repo            text NOT NULL,
  project         text NOT NULL,
  workspace       text NOT NULL,
  state           text NOT NULL CHECK (state IN ('clean', 'drifted', 'error')),
  issue_number    integer,
  first_seen_at   timestamptz,
  last_checked_at timestamptz NOT NULL,
  report          jsonb NOT NULL DEFAULT '{}',
  updated_at      timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (repo, project, workspace)
);
CREATE INDEX drift_status_issue_idx ON drift_status (repo, issue_number);
`,
  },
  {
    version: 4,
    name: 'project slots: one terraform execution per project and workspace',
    sql: `
CREATE TABLE project_slots (
  repo        text NOT NULL,
  project     text NOT NULL,
  workspace   text NOT NULL,
  holder      text NOT NULL,
  expires_at  timestamptz NOT NULL,
  acquired_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (repo, project, workspace)
);
`,
  },
];

/** Arbitrary constant: the advisory lock id that serialises migrations across processes. */
const MIGRATION_LOCK = 7_245_001;

/** Apply the migrations not yet recorded, each in its own transaction; returns the versions applied. */
export async function migrate(db: SqlDriver, migrations: readonly Migration[] = MIGRATIONS): Promise<number[]> {
  await db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version    integer PRIMARY KEY,
    name       text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
  )`);
  const applied: number[] = [];
  for (const m of [...migrations].sort((a, b) => a.version - b.version)) {
    const done = await db.transaction(async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
      const seen = await tx.query('SELECT 1 FROM schema_migrations WHERE version = $1', [m.version]);
      if (seen.length > 0) return false;
      // Statements one by one: the extended protocol (used for parameters) runs a single statement per query.
      for (const statement of splitStatements(m.sql)) await tx.query(statement);
      await tx.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [m.version, m.name]);
      return true;
    });
    if (done) applied.push(m.version);
  }
  return applied;
}

/** Split on `;` at line ends: our migrations have no functions or string literals containing that. */
function splitStatements(sql: string): string[] {
  return sql
    .split(/;\s*$/m)
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

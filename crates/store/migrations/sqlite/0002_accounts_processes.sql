-- Accounts, sessions, processes (convocatorias), offices, aspirants, collectors, audit log.
-- Times are RFC 3339 UTC text; ids are integers (surrogate keys never shown to citizens).

CREATE TABLE users (
    id INTEGER PRIMARY KEY,
    email TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('admin', 'reviewer', 'aspirant', 'collector')),
    password_hash TEXT NOT NULL,
    must_change_password INTEGER NOT NULL DEFAULT 0 CHECK (must_change_password IN (0, 1)),
    active INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
    created_at TEXT NOT NULL
);

-- Only a SHA-256 of the session token is stored: a copy of the database opens no session.
CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    csrf_token TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    last_seen_at TEXT NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);

-- Failed logins, per account email and per client address, for throttling.
CREATE TABLE login_failures (
    id INTEGER PRIMARY KEY,
    email TEXT NOT NULL,
    client TEXT NOT NULL,
    at TEXT NOT NULL
);
CREATE INDEX login_failures_email ON login_failures (email, at);
CREATE INDEX login_failures_client ON login_failures (client, at);

CREATE TABLE processes (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    collection_starts_on TEXT NOT NULL,
    collection_ends_on TEXT NOT NULL,
    grace_hours INTEGER NOT NULL CHECK (grace_hours >= 0),
    roll_snapshot_id INTEGER NOT NULL REFERENCES roll_snapshots (id),
    created_at TEXT NOT NULL
);

-- Municipios where paper supports are allowed (régimen de excepción).
CREATE TABLE process_paper_municipalities (
    process_id INTEGER NOT NULL REFERENCES processes (id) ON DELETE CASCADE,
    state INTEGER NOT NULL,
    municipality INTEGER NOT NULL,
    PRIMARY KEY (process_id, state, municipality)
);

CREATE TABLE offices (
    id INTEGER PRIMARY KEY,
    process_id INTEGER NOT NULL REFERENCES processes (id) ON DELETE CASCADE,
    kind TEXT NOT NULL CHECK (kind IN ('ayuntamiento', 'local_district', 'state')),
    name TEXT NOT NULL,
    state INTEGER NOT NULL,
    municipality INTEGER,
    district INTEGER,
    threshold_kind TEXT NOT NULL CHECK (threshold_kind IN ('percent', 'fixed')),
    -- percent: hundredths of a percent (300 = 3.00 %); fixed: a count.
    threshold_value INTEGER NOT NULL CHECK (threshold_value > 0),
    -- Lista Nominal of the territory at the process's roll cut, and the required count (rounded up).
    territory_roll INTEGER NOT NULL,
    required_supports INTEGER NOT NULL,
    -- Dispersion: at least min_section_share (hundredths of %) of the secciones, each with at
    -- least min_section_support (hundredths of %) of its roll. 0 disables.
    dispersion_min_sections_bp INTEGER NOT NULL DEFAULT 0,
    dispersion_min_support_bp INTEGER NOT NULL DEFAULT 0,
    UNIQUE (process_id, name)
);

CREATE TABLE office_sections (
    office_id INTEGER NOT NULL REFERENCES offices (id) ON DELETE CASCADE,
    state INTEGER NOT NULL,
    section INTEGER NOT NULL,
    PRIMARY KEY (office_id, state, section)
);

CREATE TABLE aspirants (
    id INTEGER PRIMARY KEY,
    process_id INTEGER NOT NULL REFERENCES processes (id),
    office_id INTEGER NOT NULL REFERENCES offices (id),
    user_id INTEGER NOT NULL UNIQUE REFERENCES users (id),
    name TEXT NOT NULL,
    created_at TEXT NOT NULL
);

CREATE TABLE collectors (
    id INTEGER PRIMARY KEY,
    process_id INTEGER NOT NULL REFERENCES processes (id),
    aspirant_id INTEGER NOT NULL REFERENCES aspirants (id),
    user_id INTEGER NOT NULL UNIQUE REFERENCES users (id),
    name TEXT NOT NULL,
    clave_elector TEXT NOT NULL,
    active INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
    created_at TEXT NOT NULL
);
-- A person collects for one aspirant only in a process (DOMAIN §6), even after deactivation:
-- what they captured stays accountable to that aspirant.
CREATE UNIQUE INDEX collectors_one_aspirant ON collectors (process_id, clave_elector);
CREATE INDEX collectors_aspirant ON collectors (aspirant_id);

-- Append-only: every change of state, in the same transaction as the change.
CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    actor_user_id INTEGER,
    action TEXT NOT NULL,
    entity TEXT NOT NULL,
    entity_id TEXT,
    before_json TEXT,
    after_json TEXT,
    request_id TEXT
);
CREATE INDEX audit_log_entity ON audit_log (entity, entity_id);
CREATE INDEX audit_log_actor ON audit_log (actor_user_id, at);

CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;

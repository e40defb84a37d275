-- Roll snapshots imported from the console (docs/roll-format.md): the upload is stored in
-- a temporary file, then imported in the background. `updated_at` is the heartbeat of the
-- instance running it; a row left 'queued' or 'running' by a stopped server is marked
-- 'failed' when the server starts again (the upload is lost; the user sends it again).
CREATE TABLE roll_imports (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    cut_date TEXT NOT NULL,
    activate INTEGER NOT NULL CHECK (activate IN (0, 1)),
    status TEXT NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'running', 'done', 'failed')),
    rows_read INTEGER NOT NULL DEFAULT 0,
    bytes INTEGER NOT NULL DEFAULT 0,
    error TEXT,
    snapshot_id INTEGER REFERENCES roll_snapshots (id),
    created_by INTEGER NOT NULL REFERENCES users (id),
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    finished_at TEXT
);
CREATE INDEX roll_imports_status ON roll_imports (status, id);

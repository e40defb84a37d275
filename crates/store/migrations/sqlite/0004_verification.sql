-- Verification of supports against the process's roll snapshot and duplicate resolution
-- (docs/verification.md), run by the background worker (docs/supports.md, "Verification").

-- The citizen's roll identity (clave de elector of the matched rows; NULL when no citizen
-- was found), the outcome before duplicates, and the outcome once the group of the same
-- citizen in the process was resolved. All NULL until the support is verified.
ALTER TABLE supports ADD COLUMN citizen_clave TEXT;
ALTER TABLE supports ADD COLUMN preliminary_outcome TEXT;
ALTER TABLE supports ADD COLUMN outcome TEXT;
-- For a duplicate: the sequence of the support of the same citizen and office that counts.
ALTER TABLE supports ADD COLUMN duplicate_of INTEGER;
ALTER TABLE supports ADD COLUMN outcome_snapshot_id INTEGER REFERENCES roll_snapshots (id);
-- When the support itself was last verified, RFC 3339 UTC.
ALTER TABLE supports ADD COLUMN verified_at TEXT;
CREATE INDEX supports_citizen ON supports (process_id, office_id, citizen_clave);

-- Every outcome a support had, appended only when its outcome (or duplicate_of) changes.
CREATE TABLE support_outcomes (
    id INTEGER PRIMARY KEY,
    support_id INTEGER NOT NULL REFERENCES supports (id),
    outcome TEXT NOT NULL,
    duplicate_of INTEGER,
    snapshot_id INTEGER NOT NULL REFERENCES roll_snapshots (id),
    decided_at TEXT NOT NULL
);
CREATE INDEX support_outcomes_support ON support_outcomes (support_id, id);

-- When the running attempt started, and the last error of a failed attempt.
ALTER TABLE verification_jobs ADD COLUMN started_at TEXT;
ALTER TABLE verification_jobs ADD COLUMN last_error TEXT;

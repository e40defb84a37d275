-- Roll snapshots (cortes de la Lista Nominal) and their records.
-- Several snapshots live side by side; at most one is active.

CREATE TABLE roll_snapshots (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    cut_date TEXT NOT NULL,
    source_sha256 TEXT NOT NULL,
    source_bytes INTEGER NOT NULL,
    row_count INTEGER NOT NULL,
    imported_at TEXT NOT NULL,
    active INTEGER NOT NULL DEFAULT 0 CHECK (active IN (0, 1))
);

CREATE UNIQUE INDEX roll_snapshots_one_active ON roll_snapshots (active) WHERE active = 1;

-- The records of each snapshot live in their own table, roll_records_<snapshot id>, created
-- by the import (see src/roll_table.rs for its shape): rows are appended to an unindexed
-- table and the indexes are built once at the end, by sorting, which is several times
-- faster than maintaining them row by row; dropping a snapshot is dropping its table.

-- Per-sección counts by situación, stored with the snapshot: thresholds and dispersion
-- read them, and they map sección -> municipio.
CREATE TABLE roll_section_counts (
    snapshot_id INTEGER NOT NULL REFERENCES roll_snapshots (id) ON DELETE CASCADE,
    state INTEGER NOT NULL,
    section INTEGER NOT NULL,
    municipality INTEGER NOT NULL,
    lista_nominal INTEGER NOT NULL,
    padron INTEGER NOT NULL,
    baja INTEGER NOT NULL,
    reemplazada INTEGER NOT NULL,
    PRIMARY KEY (snapshot_id, state, section)
);

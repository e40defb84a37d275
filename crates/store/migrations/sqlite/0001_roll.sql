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

CREATE TABLE roll_records (
    snapshot_id INTEGER NOT NULL REFERENCES roll_snapshots (id) ON DELETE CASCADE,
    line INTEGER NOT NULL,
    clave_elector TEXT NOT NULL,
    curp TEXT,
    given_names TEXT NOT NULL,
    paternal_surname TEXT NOT NULL,
    maternal_surname TEXT NOT NULL,
    sex TEXT NOT NULL,
    birth_date TEXT NOT NULL,
    state INTEGER NOT NULL,
    municipality INTEGER NOT NULL,
    section INTEGER NOT NULL,
    model TEXT NOT NULL,
    cic TEXT,
    ocr TEXT,
    citizen_id TEXT,
    issue_number INTEGER NOT NULL,
    expiry_year INTEGER NOT NULL,
    status TEXT NOT NULL,
    removal_cause TEXT,
    PRIMARY KEY (snapshot_id, line)
);

-- Models D–H are looked up by CIC (then identificador or OCR compared); a CIC is one credential.
CREATE UNIQUE INDEX roll_records_cic ON roll_records (snapshot_id, cic) WHERE cic IS NOT NULL;
-- Models A–C by clave + emisión (then OCR compared); the clave is also the citizen's identity
-- for duplicate rules, served by this index's prefix.
CREATE UNIQUE INDEX roll_records_clave_issue ON roll_records (snapshot_id, clave_elector, issue_number);
-- A citizen has one current (not superseded) credential.
CREATE UNIQUE INDEX roll_records_current ON roll_records (snapshot_id, clave_elector) WHERE status <> 'reemplazada';

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

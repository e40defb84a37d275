-- Mesa de Control and the hearing (docs/review.md).

-- The catalogue of inconsistencies a reviewer records (DOMAIN §5.B). The OPL extends it;
-- codes are never renamed, entries are retired (active = 0) rather than deleted.
CREATE TABLE inconsistency_types (
    code TEXT PRIMARY KEY,
    label TEXT NOT NULL,
    invalidates INTEGER NOT NULL CHECK (invalidates IN (0, 1)),
    position INTEGER NOT NULL,
    active INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
    created_at TEXT NOT NULL
);
INSERT INTO inconsistency_types (code, label, invalidates, position, created_at) VALUES
    ('photocopy', 'Fotocopia (incluye imágenes en blanco y negro)', 1, 1, '2026-12-05T00:00:00Z'),
    ('simulated_credential', 'Simulación de credencial', 1, 2, '2026-12-05T00:00:00Z'),
    ('invalid_document', 'Documento no válido (otro documento: licencia, tarjeta de descuento)', 1, 3, '2026-12-05T00:00:00Z'),
    ('invalid_credential', 'Credencial no válida', 1, 4, '2026-12-05T00:00:00Z'),
    ('not_the_original', 'La imagen no corresponde con el original de la credencial', 1, 5, '2026-12-05T00:00:00Z'),
    ('one_side_only', 'Sólo anverso o sólo reverso', 1, 6, '2026-12-05T00:00:00Z'),
    ('screen_image', 'Imagen de pantalla (no corresponde al físico)', 1, 7, '2026-12-05T00:00:00Z'),
    ('illegible', 'Imagen ilegible', 1, 8, '2026-12-05T00:00:00Z'),
    ('invalid_live_photo', 'Fotografía viva no válida (no es persona, no tomada directamente o no es quien porta la credencial)', 1, 9, '2026-12-05T00:00:00Z'),
    ('invalid_signature', 'Firma no válida o no coincide', 1, 10, '2026-12-05T00:00:00Z'),
    ('no_signature', 'Sin firma', 1, 11, '2026-12-05T00:00:00Z'),
    ('data_mismatch', 'Los datos capturados no coinciden con la imagen', 1, 12, '2026-12-05T00:00:00Z'),
    ('paper_no_copy', 'Cédula sin copia de la credencial', 1, 13, '2026-12-05T00:00:00Z'),
    ('paper_no_signature', 'Cédula sin firma ni huella', 1, 14, '2026-12-05T00:00:00Z'),
    ('paper_insufficient_data', 'Cédula con datos insuficientes', 1, 15, '2026-12-05T00:00:00Z');

-- The review policy and the hearing window of each process.
ALTER TABLE processes ADD COLUMN review_sample_percent INTEGER NOT NULL DEFAULT 10;
ALTER TABLE processes ADD COLUMN review_trigger_percent INTEGER NOT NULL DEFAULT 10;
ALTER TABLE processes ADD COLUMN hearing_opens_on TEXT;
ALTER TABLE processes ADD COLUMN hearing_closes_on TEXT;

-- Whether the latest Mesa de Control decision on a support invalidates it. Duplicate
-- resolution reads a support found on the roll but invalidated as `review_inconsistent`.
ALTER TABLE supports ADD COLUMN review_invalidated INTEGER NOT NULL DEFAULT 0;

-- Aspirants sent to full review (every support found on the roll is reviewed).
CREATE TABLE aspirant_reviews (
    aspirant_id INTEGER PRIMARY KEY REFERENCES aspirants (id),
    full_review_since TEXT NOT NULL
);

-- The review queue: a support is queued once (as part of the sample, or of a full
-- review); a reviewer holds it until `claimed_until`, so two never hold the same one.
CREATE TABLE review_items (
    id INTEGER PRIMARY KEY,
    support_id INTEGER NOT NULL UNIQUE REFERENCES supports (id),
    process_id INTEGER NOT NULL REFERENCES processes (id),
    aspirant_id INTEGER NOT NULL REFERENCES aspirants (id),
    reason TEXT NOT NULL CHECK (reason IN ('sample', 'full')),
    status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'done')),
    claimed_by INTEGER REFERENCES users (id),
    claimed_until TEXT,
    queued_at TEXT NOT NULL,
    done_at TEXT
);
CREATE INDEX review_items_queue ON review_items (process_id, status, id);
CREATE INDEX review_items_aspirant ON review_items (aspirant_id, status);

-- Every decision on a support, appended: a first review, a supervisor's re-review, or the
-- resolution of an objection. The latest one is in force.
CREATE TABLE reviews (
    id INTEGER PRIMARY KEY,
    support_id INTEGER NOT NULL REFERENCES supports (id),
    reviewer_id INTEGER NOT NULL REFERENCES users (id),
    kind TEXT NOT NULL CHECK (kind IN ('review', 'rereview', 'objection')),
    inconsistencies_json TEXT NOT NULL,
    invalidates INTEGER NOT NULL CHECK (invalidates IN (0, 1)),
    note TEXT,
    decided_at TEXT NOT NULL
);
CREATE INDEX reviews_support ON reviews (support_id, id);
CREATE INDEX reviews_reviewer ON reviews (reviewer_id, decided_at);

-- The hearing: an aspirant's objection to a rejected support, and its resolution.
CREATE TABLE objections (
    id INTEGER PRIMARY KEY,
    support_id INTEGER NOT NULL REFERENCES supports (id),
    aspirant_id INTEGER NOT NULL REFERENCES aspirants (id),
    filed_by INTEGER NOT NULL REFERENCES users (id),
    outcome_at_filing TEXT NOT NULL,
    argument TEXT NOT NULL,
    filed_at TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'granted', 'denied')),
    resolved_by INTEGER REFERENCES users (id),
    resolution_note TEXT,
    resolved_at TEXT
);
CREATE INDEX objections_aspirant ON objections (aspirant_id, id);
CREATE INDEX objections_status ON objections (status, id);
CREATE UNIQUE INDEX objections_one_open ON objections (support_id) WHERE status = 'open';

-- The server's cross-check of each support's typed credential against the MRZ read
-- from the photo of the card's back (background work; docs/supports.md, "Image
-- cross-check"). A support with no row here has not been checked yet.
CREATE TABLE image_checks (
    support_id INTEGER PRIMARY KEY REFERENCES supports (id),
    -- agrees: read, check digits hold, nothing typed contradicts it;
    -- differs: read, check digits hold, the typed data contradicts it (a flag for the
    --   Mesa de Control: «los datos capturados no coinciden con la imagen»);
    -- unreadable: no reading whose check digits hold (a person must look);
    -- no_mrz: the credential model has no MRZ (A–C), or there is no back image.
    status TEXT NOT NULL CHECK (status IN ('agrees', 'differs', 'unreadable', 'no_mrz')),
    -- The three lines read, newline-separated, when a reading was made.
    mrz TEXT,
    confidence REAL,
    -- The contradictions: [{code, message}], Spanish messages.
    differences_json TEXT NOT NULL DEFAULT '[]',
    read_ms INTEGER,
    checked_at TEXT NOT NULL
);
CREATE INDEX image_checks_status ON image_checks (status);

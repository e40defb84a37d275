-- The roll key of each support's captured credential (`CapturedKey`: the identifiers
-- its model uses and the captured clave de elector), stored when the support is first
-- verified, so that a batch re-verification of a process reads it instead of running
-- `check_credential` again over every support (docs/verification.md, "Re-verification
-- performance"). NULL until then; the format (with its version tag) is
-- `encode_key` in crates/store/src/reverification.rs. A key of an unknown version is
-- computed again from `credential_json`, so this column is a cache, never the truth.
ALTER TABLE supports ADD COLUMN roll_key TEXT;

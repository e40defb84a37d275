-- The perceptual hash of each support image (64-bit DCT pHash of the decoded pixels, 16 hex
-- digits; see crates/server/src/images.rs): near-identical images (a recompressed or
-- rescaled copy) have hashes a few bits apart. NULL for images received before 0006.
ALTER TABLE support_images ADD COLUMN phash TEXT;

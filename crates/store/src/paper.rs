//! Paper supports (régimen de excepción, DOMAIN §8): cédulas the aspirant hands to the
//! OPL, captured by OPL staff with a copy of the credential (front and back) and the
//! signed cédula (`signature`); no live photo. They take the same reception order and
//! verification as electronic supports, marked `paper`, with no collector. Paper is
//! typed by staff at a desk, a few per minute: one plain transaction per support.

use serde_json::{Value, json};
use sqlx::Row;

use crate::audit::{self, Actor};
use crate::error::RuleViolation;
use crate::supports::{
    Acceptance, ImageKind, ImageRow, NewImage, enqueue_verification, folio, insert_images,
    next_sequence,
};
use crate::verification::db;
use crate::{BlobStore, Store, StoreError, clock, sha256_hex};

/// The images of a paper support, in order.
pub const PAPER_IMAGE_KINDS: [ImageKind; 3] =
    [ImageKind::Front, ImageKind::Back, ImageKind::Signature];

/// A paper cédula as captured by OPL staff (already validated by the caller).
#[derive(Clone, Debug)]
pub struct NewPaperSupport {
    /// The staff member capturing it.
    pub staff_user_id: i64,
    pub aspirant_id: i64,
    pub client_id: String,
    /// When the citizen signed the cédula, RFC 3339 UTC.
    pub captured_at: String,
    /// The credential fields as typed from the copy.
    pub credential: Value,
    /// Codes of the checks that failed when typed.
    pub precheck: Value,
    /// One of each of [`PAPER_IMAGE_KINDS`].
    pub images: Vec<NewImage>,
}

fn content_sha256(new: &NewPaperSupport, rows: &[ImageRow]) -> String {
    let canonical = json!({
        "aspirant_id": new.aspirant_id,
        "captured_at": new.captured_at,
        "credential": new.credential,
        "precheck": new.precheck,
        "images": rows.iter().map(|i| json!([i.kind.as_str(), i.sha256])).collect::<Vec<_>>(),
    });
    sha256_hex(canonical.to_string().as_bytes())
}

async fn existing(
    executor: impl sqlx::AnyExecutor<'_>,
    staff_user_id: i64,
    client_id: &str,
) -> Result<Option<(i64, String)>, StoreError> {
    sqlx::query_as(
        "SELECT id, content_sha256 FROM supports WHERE collector_id IS NULL \
         AND captured_by_user_id = $1 AND client_id = $2",
    )
    .bind(staff_user_id)
    .bind(client_id)
    .fetch_optional(executor)
    .await
    .map_err(db)
}

impl Store {
    /// Accepts a paper support durably, like [`Store::accept_support`]: images first,
    /// then the support, its images, its verification job and the audit entry in one
    /// transaction committed with `synchronous = FULL`. A resend with the same client id
    /// and content (by the same staff member) answers the first receipt.
    pub async fn accept_paper_support(
        &self,
        actor: &Actor,
        blobs: &BlobStore,
        new: NewPaperSupport,
    ) -> Result<Acceptance, StoreError> {
        let mut images = new.images.clone();
        images.sort_by_key(|i| i.kind);
        if images.iter().map(|i| i.kind).collect::<Vec<_>>() != PAPER_IMAGE_KINDS {
            return Err(StoreError::Rule(RuleViolation::SupportImagesIncomplete));
        }
        let rows: Vec<ImageRow> = images
            .iter()
            .map(|i| ImageRow::of(i, sha256_hex(&i.bytes), &i.bytes))
            .collect();
        let content = content_sha256(&new, &rows);
        if let Some(found) = existing(&self.pool, new.staff_user_id, &new.client_id).await? {
            return self.repeated(found, &content, &new.client_id).await;
        }
        let aspirant = sqlx::query("SELECT process_id, office_id FROM aspirants WHERE id = $1")
            .bind(new.aspirant_id)
            .fetch_optional(&self.pool)
            .await
            .map_err(db)?
            .ok_or(StoreError::NotFound("aspirant"))?;
        let process_id: i64 = aspirant.try_get("process_id").map_err(db)?;
        let office_id: i64 = aspirant.try_get("office_id").map_err(db)?;
        // Images first, durably (content-addressed: the key is the row's SHA-256).
        for image in &images {
            blobs
                .put(image.bytes.clone())
                .await
                .map_err(StoreError::Blob)?;
        }

        let mut conn = self.durable_connection().await?;
        let result: Result<Result<i64, (i64, String)>, StoreError> = async {
            let mut tx = self.begin_on(&mut conn).await?;
            if let Some(found) = existing(&mut *tx, new.staff_user_id, &new.client_id).await? {
                return Ok(Err(found));
            }
            let sequence = next_sequence(&mut tx, process_id).await?;
            let received_at = clock::now();
            let support_id: i64 = sqlx::query_scalar(
                "INSERT INTO supports (process_id, aspirant_id, office_id, collector_id, captured_by_user_id, \
                 client_id, sequence, paper, captured_at, received_at, credential_json, precheck_json, \
                 content_sha256, status) VALUES ($1, $2, $3, NULL, $4, $5, $6, 1, $7, $8, $9, $10, $11, 'received') RETURNING id",
            )
            .bind(process_id)
            .bind(new.aspirant_id)
            .bind(office_id)
            .bind(new.staff_user_id)
            .bind(&new.client_id)
            .bind(sequence)
            .bind(&new.captured_at)
            .bind(&received_at)
            .bind(new.credential.to_string())
            .bind(new.precheck.to_string())
            .bind(&content)
            .fetch_one(&mut *tx)
            .await
            .map_err(db)?;
            insert_images(&mut tx, support_id, &rows).await?;
            enqueue_verification(&mut tx, support_id, &received_at).await?;
            audit::append(
                &mut tx,
                actor,
                "support.paper.receive",
                "support",
                support_id,
                None,
                Some(json!({
                    "process_id": process_id, "aspirant_id": new.aspirant_id,
                    "captured_by_user_id": new.staff_user_id, "client_id": new.client_id,
                    "sequence": sequence, "folio": folio(process_id, sequence),
                    "content_sha256": content,
                    "images": rows.iter().map(|i| json!({"kind": i.kind.as_str(), "sha256": i.sha256, "phash": i.phash})).collect::<Vec<_>>(),
                })),
            )
            .await?;
            tx.commit().await.map_err(db)?;
            Ok(Ok(support_id))
        }
        .await;
        self.release_durable(conn).await;
        let result = match result {
            // PostgreSQL: the same paper support sent to another instance committed first.
            Err(e) if e.is_unique_violation() => {
                match existing(&self.pool, new.staff_user_id, &new.client_id).await? {
                    Some(found) => Ok(Err(found)),
                    None => Err(e),
                }
            }
            other => other,
        };
        match result? {
            Ok(support_id) => Ok(Acceptance::Accepted(
                self.support_receipt(support_id)
                    .await?
                    .ok_or(StoreError::NotFound("support"))?,
            )),
            Err(found) => self.repeated(found, &content, &new.client_id).await,
        }
    }
}

//! Supports (apoyos) as received from collectors: durable acceptance with a reception
//! sequence per process, idempotent on the client's id, images in a [`BlobStore`].
//! [`Reception`] commits the supports that arrive together in one transaction (group
//! commit); [`Store::accept_support`] commits one alone.

use serde::Serialize;
use serde_json::{Value, json};
use sqlx::Row;

use crate::Tx;
use tokio::sync::{mpsc, oneshot};

use crate::audit::{self, Actor};
use crate::blobs::{BlobStore, sha256_hex};
use crate::error::{Conflict, RuleViolation};
use crate::{Store, StoreError, clock};

/// The four images of a support.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ImageKind {
    /// Anverso of the credential.
    Front,
    /// Reverso of the credential.
    Back,
    /// Fotografía viva of the citizen.
    LivePhoto,
    /// The citizen's signature.
    Signature,
}

impl ImageKind {
    pub const ALL: [ImageKind; 4] = [Self::Front, Self::Back, Self::LivePhoto, Self::Signature];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Front => "front",
            Self::Back => "back",
            Self::LivePhoto => "live_photo",
            Self::Signature => "signature",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == text)
    }
}

/// One validated image, metadata already removed.
#[derive(Clone, Debug)]
pub struct NewImage {
    pub kind: ImageKind,
    /// `image/jpeg`, `image/png` or `image/webp`.
    pub content_type: &'static str,
    pub width: u32,
    pub height: u32,
    /// Perceptual hash of the decoded image (16 hex digits), when the caller computed one.
    pub phash: Option<String>,
    pub bytes: Vec<u8>,
}

/// A support as sent by a collector (already validated by the caller).
#[derive(Clone, Debug)]
pub struct NewSupport {
    /// The collector's account (the caller).
    pub collector_user_id: i64,
    pub client_id: String,
    /// RFC 3339 UTC. (Paper supports are not received through this path yet: `paper` is 0.)
    pub captured_at: String,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    /// The captured credential fields.
    pub credential: Value,
    /// Codes of the pre-send checks that failed on the device.
    pub precheck: Value,
    /// One of each kind.
    pub images: Vec<NewImage>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct StoredImage {
    pub kind: ImageKind,
    pub content_type: String,
    pub bytes: i64,
    pub width: i64,
    pub height: i64,
    pub sha256: String,
    /// Perceptual hash (16 hex digits); `None` for images received before it was recorded.
    pub phash: Option<String>,
    pub object_key: String,
}

/// What the collector keeps as proof of reception.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Receipt {
    pub support_id: i64,
    pub client_id: String,
    pub process_id: i64,
    pub aspirant_id: i64,
    /// `None` for a paper support (captured by OPL staff).
    pub collector_id: Option<i64>,
    pub sequence: i64,
    /// `<process id>-<sequence, 8 digits>`.
    pub folio: String,
    pub received_at: String,
    pub images: Vec<StoredImage>,
    /// The outcome of verification (`RollOutcome::code`), once verified.
    pub outcome: Option<String>,
    /// For a duplicate: the sequence of the support that counts.
    pub duplicate_of: Option<i64>,
    /// When the support was last verified, RFC 3339 UTC.
    pub verified_at: Option<String>,
}

/// The folio printed on a receipt.
pub fn folio(process_id: i64, sequence: i64) -> String {
    format!("{process_id}-{sequence:08}")
}

/// The result of sending a support.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Acceptance {
    /// Stored now.
    Accepted(Receipt),
    /// Already stored by an earlier send with the same client id and content.
    Repeated(Receipt),
}

/// The collector behind an account, with what acceptance needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CollectorAssignment {
    pub collector_id: i64,
    pub process_id: i64,
    pub aspirant_id: i64,
    pub office_id: i64,
    pub active: bool,
}

/// One image row of a support about to be committed (its bytes already in the blob store).
#[derive(Clone, Debug)]
pub(crate) struct ImageRow {
    pub(crate) kind: ImageKind,
    pub(crate) content_type: &'static str,
    pub(crate) bytes: i64,
    pub(crate) width: i64,
    pub(crate) height: i64,
    pub(crate) sha256: String,
    pub(crate) phash: Option<String>,
}

impl ImageRow {
    /// The row of `image`, whose `stored` bytes hash to `sha256` (its blob key). The
    /// bytes are passed apart: reception moves them out of the image to write them.
    pub(crate) fn of(image: &NewImage, sha256: String, stored: &[u8]) -> Self {
        Self {
            kind: image.kind,
            content_type: image.content_type,
            bytes: i64::try_from(stored.len()).unwrap_or(i64::MAX),
            width: i64::from(image.width),
            height: i64::from(image.height),
            sha256,
            phash: image.phash.clone(),
        }
    }
}

/// A support checked and with its images durably stored: what the write transaction needs.
#[derive(Debug)]
struct Prepared {
    actor: Actor,
    collector: CollectorAssignment,
    /// Without image bytes (they are in the blob store).
    new: NewSupport,
    images: Vec<ImageRow>,
    content: String,
}

/// What the write transaction did with one support.
#[derive(Debug)]
enum Committed {
    /// Inserted: the new support's id.
    Inserted(i64),
    /// An earlier send with the same client id (support id, content hash) committed first.
    Existing((i64, String)),
}

fn content_sha256(new: &NewSupport, image_rows: &[ImageRow]) -> String {
    let images: Vec<Value> = image_rows
        .iter()
        .map(|i| json!([i.kind.as_str(), i.sha256]))
        .collect();
    let canonical = json!({
        "captured_at": new.captured_at,
        "latitude": new.latitude,
        "longitude": new.longitude,
        "credential": new.credential,
        "precheck": new.precheck,
        "images": images,
    });
    sha256_hex(canonical.to_string().as_bytes())
}

async fn assignment(
    executor: impl sqlx::AnyExecutor<'_>,
    user_id: i64,
) -> Result<Option<CollectorAssignment>, StoreError> {
    let row: Option<(i64, i64, i64, i64, i64)> = sqlx::query_as(
        "SELECT c.id, c.process_id, c.aspirant_id, a.office_id, c.active \
         FROM collectors c JOIN aspirants a ON a.id = c.aspirant_id WHERE c.user_id = $1",
    )
    .bind(user_id)
    .fetch_optional(executor)
    .await
    .map_err(StoreError::Database)?;
    Ok(row.map(
        |(collector_id, process_id, aspirant_id, office_id, active)| CollectorAssignment {
            collector_id,
            process_id,
            aspirant_id,
            office_id,
            active: active == 1,
        },
    ))
}

/// (support id, content hash) of a collector's earlier send with this client id.
async fn existing(
    executor: impl sqlx::AnyExecutor<'_>,
    collector_id: i64,
    client_id: &str,
) -> Result<Option<(i64, String)>, StoreError> {
    sqlx::query_as(
        "SELECT id, content_sha256 FROM supports WHERE collector_id = $1 AND client_id = $2",
    )
    .bind(collector_id)
    .bind(client_id)
    .fetch_optional(executor)
    .await
    .map_err(StoreError::Database)
}

impl Store {
    /// The collector behind a user account, if the account is a collector's.
    pub async fn collector_assignment(
        &self,
        user_id: i64,
    ) -> Result<Option<CollectorAssignment>, StoreError> {
        assignment(&self.pool, user_id).await
    }

    /// The id of a collector's support sent with `client_id`, if any.
    pub async fn support_by_client_id(
        &self,
        collector_id: i64,
        client_id: &str,
    ) -> Result<Option<i64>, StoreError> {
        Ok(existing(&self.pool, collector_id, client_id)
            .await?
            .map(|(id, _)| id))
    }

    pub(crate) async fn repeated(
        &self,
        found: (i64, String),
        content: &str,
        client_id: &str,
    ) -> Result<Acceptance, StoreError> {
        if found.1 != content {
            return Err(StoreError::Conflict(Conflict::SupportClientIdReused(
                client_id.to_owned(),
            )));
        }
        let receipt = self
            .support_receipt(found.0)
            .await?
            .ok_or(StoreError::NotFound("support"))?;
        Ok(Acceptance::Repeated(receipt))
    }

    /// Checks a support and stores its images, up to what only the write transaction can
    /// do. `Err` carries the answer when there is nothing to commit (a resend).
    async fn prepare(
        &self,
        actor: &Actor,
        blobs: &BlobStore,
        new: NewSupport,
    ) -> Result<Result<Prepared, Acceptance>, StoreError> {
        let mut new = new;
        new.images.sort_by_key(|i| i.kind);
        let kinds: Vec<ImageKind> = new.images.iter().map(|i| i.kind).collect();
        if kinds != ImageKind::ALL {
            return Err(StoreError::Rule(RuleViolation::SupportImagesIncomplete));
        }
        // Hashing ~150 KB takes a fraction of a millisecond: still, not on the async threads.
        let (mut new, blobs_to_write) = tokio::task::spawn_blocking(move || {
            let blobs: Vec<(String, Vec<u8>)> = new
                .images
                .iter_mut()
                .map(|i| (sha256_hex(&i.bytes), std::mem::take(&mut i.bytes)))
                .collect();
            (new, blobs)
        })
        .await
        .map_err(|e| StoreError::Blob(std::io::Error::other(e.to_string())))?;
        let images: Vec<ImageRow> = new
            .images
            .drain(..)
            .zip(&blobs_to_write)
            .map(|(image, (sha256, bytes))| ImageRow::of(&image, sha256.clone(), bytes))
            .collect();
        let content = content_sha256(&new, &images);
        let collector = self
            .collector_assignment(new.collector_user_id)
            .await?
            .ok_or(StoreError::NotFound("collector"))?;
        if let Some(found) = existing(&self.pool, collector.collector_id, &new.client_id).await? {
            return self
                .repeated(found, &content, &new.client_id)
                .await
                .map(Err);
        }
        if !collector.active {
            return Err(StoreError::Rule(RuleViolation::CollectorInactive));
        }

        // Images first, durably: a committed row never points at a missing blob. The four
        // puts run at once, so their fsyncs overlap.
        let mut puts = tokio::task::JoinSet::new();
        for (key, bytes) in blobs_to_write {
            let blobs = blobs.clone();
            puts.spawn(async move { blobs.put_keyed(&key, bytes).await });
        }
        while let Some(put) = puts.join_next().await {
            put.map_err(|e| StoreError::Blob(std::io::Error::other(e.to_string())))?
                .map_err(StoreError::Blob)?;
        }
        Ok(Ok(Prepared {
            actor: actor.clone(),
            collector,
            new,
            images,
            content,
        }))
    }

    /// Commits supports whose images are stored, in one `BEGIN IMMEDIATE` transaction
    /// committed with `synchronous = FULL` (durable on return, even across a power loss):
    /// each gets the next sequence of its process, in order, and its row, images, pending
    /// verification job and audit entry. Each support is inside its own savepoint, so one
    /// that cannot be inserted takes nothing of the others with it. `Err`: nothing was
    /// committed.
    async fn commit_batch(
        &self,
        batch: &[Prepared],
    ) -> Result<Vec<Result<Committed, StoreError>>, StoreError> {
        let mut conn = self.durable_connection().await?;
        let result = async {
            let mut tx = self.begin_on(&mut conn).await?;
            let mut results = Vec::with_capacity(batch.len());
            for prepared in batch {
                sqlx::query("SAVEPOINT support")
                    .execute(&mut *tx)
                    .await
                    .map_err(StoreError::Database)?;
                let mut result = commit_one(&mut tx, prepared).await;
                if !matches!(result, Ok(Committed::Inserted(_))) {
                    sqlx::query("ROLLBACK TO support")
                        .execute(&mut *tx)
                        .await
                        .map_err(StoreError::Database)?;
                }
                if matches!(&result, Err(e) if e.is_unique_violation()) {
                    // On PostgreSQL the same support sent to another instance at the same
                    // moment committed first (SQLite's single writer cannot get here): it
                    // is a resend, answered with the first receipt.
                    let found = existing(
                        &mut *tx,
                        prepared.collector.collector_id,
                        &prepared.new.client_id,
                    )
                    .await?;
                    if let Some(found) = found {
                        result = Ok(Committed::Existing(found));
                    }
                }
                sqlx::query("RELEASE support")
                    .execute(&mut *tx)
                    .await
                    .map_err(StoreError::Database)?;
                results.push(result);
            }
            tx.commit().await.map_err(StoreError::Database)?;
            Ok(results)
        }
        .await;
        self.release_durable(conn).await;
        result
    }

    /// The answer for a committed support.
    async fn answer(
        &self,
        prepared: &Prepared,
        committed: Committed,
    ) -> Result<Acceptance, StoreError> {
        match committed {
            Committed::Inserted(support_id) => Ok(Acceptance::Accepted(
                self.support_receipt(support_id)
                    .await?
                    .ok_or(StoreError::NotFound("support"))?,
            )),
            Committed::Existing(found) => {
                self.repeated(found, &prepared.content, &prepared.new.client_id)
                    .await
            }
        }
    }

    /// Accepts one support durably: its images are written to `blobs` (and made durable)
    /// first, then it is committed alone (see [`Reception`] for the path that commits
    /// concurrent supports together). Once this returns `Accepted`, even a power loss
    /// keeps the support. A resend with the same client id and content answers the first
    /// receipt and stores nothing.
    pub async fn accept_support(
        &self,
        actor: &Actor,
        blobs: &BlobStore,
        new: NewSupport,
    ) -> Result<Acceptance, StoreError> {
        let prepared = match self.prepare(actor, blobs, new).await? {
            Ok(prepared) => prepared,
            Err(answer) => return Ok(answer),
        };
        let committed = self
            .commit_batch(std::slice::from_ref(&prepared))
            .await?
            .pop()
            .ok_or(StoreError::NotFound("support"))??;
        self.answer(&prepared, committed).await
    }

    /// The receipt of a support.
    pub async fn support_receipt(&self, support_id: i64) -> Result<Option<Receipt>, StoreError> {
        let Some(row) = sqlx::query(
            "SELECT id, client_id, process_id, aspirant_id, collector_id, sequence, received_at, \
             outcome, duplicate_of, verified_at FROM supports WHERE id = $1",
        )
        .bind(support_id)
        .fetch_optional(&self.pool)
        .await
        .map_err(StoreError::Database)?
        else {
            return Ok(None);
        };
        #[allow(clippy::type_complexity)]
        let images: Vec<(
            String,
            String,
            i64,
            i64,
            i64,
            String,
            Option<String>,
            String,
        )> = sqlx::query_as(
            "SELECT kind, content_type, bytes, width, height, sha256, phash, object_key \
             FROM support_images WHERE support_id = $1",
        )
        .bind(support_id)
        .fetch_all(&self.pool)
        .await
        .map_err(StoreError::Database)?;
        let mut images = images
            .into_iter()
            .map(
                |(kind, content_type, bytes, width, height, sha256, phash, object_key)| {
                    Ok(StoredImage {
                        kind: ImageKind::parse(&kind)
                            .ok_or_else(|| StoreError::Corrupt(format!("image kind {kind:?}")))?,
                        content_type,
                        bytes,
                        width,
                        height,
                        sha256,
                        phash,
                        object_key,
                    })
                },
            )
            .collect::<Result<Vec<_>, StoreError>>()?;
        images.sort_by_key(|i| i.kind);
        let get = |column: &str| -> Result<i64, StoreError> {
            row.try_get(column).map_err(StoreError::Database)
        };
        let process_id = get("process_id")?;
        let sequence = get("sequence")?;
        Ok(Some(Receipt {
            support_id,
            client_id: row.try_get("client_id").map_err(StoreError::Database)?,
            process_id,
            aspirant_id: get("aspirant_id")?,
            collector_id: row.try_get("collector_id").map_err(StoreError::Database)?,
            sequence,
            folio: folio(process_id, sequence),
            received_at: row.try_get("received_at").map_err(StoreError::Database)?,
            images,
            outcome: row.try_get("outcome").map_err(StoreError::Database)?,
            duplicate_of: row.try_get("duplicate_of").map_err(StoreError::Database)?,
            verified_at: row.try_get("verified_at").map_err(StoreError::Database)?,
        }))
    }
}

/// One support inside the batch's transaction: a send with the same client id may have
/// committed since `prepare` (or earlier in this batch), and the collector may have been
/// deactivated meanwhile.
async fn commit_one(tx: &mut Tx<'_>, prepared: &Prepared) -> Result<Committed, StoreError> {
    let collector = &prepared.collector;
    let new = &prepared.new;
    if let Some(found) = existing(&mut **tx, collector.collector_id, &new.client_id).await? {
        return Ok(Committed::Existing(found));
    }
    let now = assignment(&mut **tx, new.collector_user_id)
        .await?
        .ok_or(StoreError::NotFound("collector"))?;
    if !now.active {
        return Err(StoreError::Rule(RuleViolation::CollectorInactive));
    }
    insert(tx, prepared).await.map(Committed::Inserted)
}

async fn insert(tx: &mut Tx<'_>, prepared: &Prepared) -> Result<i64, StoreError> {
    let Prepared {
        actor,
        collector,
        new,
        images,
        content,
    } = prepared;
    let sequence = next_sequence(tx, collector.process_id).await?;
    let received_at = clock::now();
    let support_id: i64 = sqlx::query_scalar(
        "INSERT INTO supports (process_id, aspirant_id, office_id, collector_id, client_id, sequence, paper, \
         captured_at, received_at, latitude, longitude, credential_json, precheck_json, content_sha256, status) \
         VALUES ($1, $2, $3, $4, $5, $6, 0, $7, $8, $9, $10, $11, $12, $13, 'received') RETURNING id",
    )
    .bind(collector.process_id)
    .bind(collector.aspirant_id)
    .bind(collector.office_id)
    .bind(collector.collector_id)
    .bind(&new.client_id)
    .bind(sequence)
    .bind(&new.captured_at)
    .bind(&received_at)
    .bind(new.latitude)
    .bind(new.longitude)
    .bind(new.credential.to_string())
    .bind(new.precheck.to_string())
    .bind(content)
    .fetch_one(&mut **tx)
    .await
    .map_err(StoreError::Database)?;
    insert_images(tx, support_id, images).await?;
    enqueue_verification(tx, support_id, &received_at).await?;
    audit::append(
        tx,
        actor,
        "support.receive",
        "support",
        support_id,
        None,
        Some(json!({
            "process_id": collector.process_id, "aspirant_id": collector.aspirant_id,
            "collector_id": collector.collector_id, "client_id": new.client_id,
            "sequence": sequence, "folio": folio(collector.process_id, sequence),
            "content_sha256": content,
            "images": images.iter().map(|i| json!({"kind": i.kind.as_str(), "sha256": i.sha256, "phash": i.phash})).collect::<Vec<_>>(),
        })),
    )
    .await?;
    Ok(support_id)
}

/// The next reception sequence of a process, in the write transaction that uses it.
pub(crate) async fn next_sequence(tx: &mut Tx<'_>, process_id: i64) -> Result<i64, StoreError> {
    sqlx::query_scalar(
        "INSERT INTO process_sequences (process_id, last) VALUES ($1, 1) \
         ON CONFLICT (process_id) DO UPDATE SET last = process_sequences.last + 1 RETURNING last",
    )
    .bind(process_id)
    .fetch_one(&mut **tx)
    .await
    .map_err(StoreError::Database)
}

/// A support's image rows (the blob store's key is the SHA-256).
pub(crate) async fn insert_images(
    tx: &mut Tx<'_>,
    support_id: i64,
    images: &[ImageRow],
) -> Result<(), StoreError> {
    for image in images {
        sqlx::query(
            "INSERT INTO support_images (support_id, kind, content_type, bytes, width, height, sha256, phash, object_key) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(support_id)
        .bind(image.kind.as_str())
        .bind(image.content_type)
        .bind(image.bytes)
        .bind(image.width)
        .bind(image.height)
        .bind(&image.sha256)
        .bind(image.phash.as_deref())
        .bind(&image.sha256)
        .execute(&mut **tx)
        .await
        .map_err(StoreError::Database)?;
    }
    Ok(())
}

/// The pending verification job of a support just received.
pub(crate) async fn enqueue_verification(
    tx: &mut Tx<'_>,
    support_id: i64,
    received_at: &str,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO verification_jobs (support_id, status, attempts, enqueued_at, updated_at) \
         VALUES ($1, 'pending', 0, $2, $3)",
    )
    .bind(support_id)
    .bind(received_at)
    .bind(received_at)
    .execute(&mut **tx)
    .await
    .map_err(StoreError::Database)?;
    Ok(())
}

/// Most supports committed in one transaction.
pub const MAX_GROUP_COMMIT: usize = 256;

/// A support waiting for the writer.
#[derive(Debug)]
struct Waiting {
    prepared: Prepared,
    /// The support comes back with the outcome, for the answer.
    reply: oneshot::Sender<(Prepared, Result<Committed, StoreError>)>,
}

/// Reception with group commit: each support is checked and its images stored by its own
/// request (so their fsyncs overlap), then handed to one writer task, which commits every
/// support waiting at that moment in one transaction ([`MAX_GROUP_COMMIT`] at most) and
/// answers each after the commit. Under load many supports share one write lock and one
/// round of fsyncs of the database; alone, a support is committed at once. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Reception {
    store: Store,
    blobs: BlobStore,
    queue: mpsc::Sender<Waiting>,
}

impl Reception {
    /// Starts the writer task (on the current Tokio runtime); it ends when the last clone
    /// of the returned handle is dropped.
    pub fn start(store: Store, blobs: BlobStore) -> Self {
        Self::start_with_group(store, blobs, MAX_GROUP_COMMIT)
    }

    /// [`start`](Self::start) committing at most `max_group` supports per transaction
    /// (1: one transaction per support, for comparison).
    pub fn start_with_group(store: Store, blobs: BlobStore, max_group: usize) -> Self {
        let max_group = max_group.max(1);
        let (queue, waiting) = mpsc::channel(4 * MAX_GROUP_COMMIT);
        tokio::spawn(write_loop(store.clone(), waiting, max_group));
        Self {
            store,
            blobs,
            queue,
        }
    }

    /// Where the images go.
    pub fn blobs(&self) -> &BlobStore {
        &self.blobs
    }

    /// Accepts a support durably, as [`Store::accept_support`] does, committed together
    /// with the supports received at the same time.
    pub async fn accept(&self, actor: &Actor, new: NewSupport) -> Result<Acceptance, StoreError> {
        let prepared = match self.store.prepare(actor, &self.blobs, new).await? {
            Ok(prepared) => prepared,
            Err(answer) => return Ok(answer),
        };
        let (reply, answer) = oneshot::channel();
        let stopped = || StoreError::Database(sqlx::Error::PoolClosed);
        // `prepared` comes back in the error if the writer is gone.
        self.queue
            .send(Waiting { prepared, reply })
            .await
            .map_err(|_| stopped())?;
        let (prepared, committed) = answer.await.map_err(|_| stopped())?;
        self.store.answer(&prepared, committed?).await
    }
}

async fn write_loop(store: Store, mut waiting: mpsc::Receiver<Waiting>, max_group: usize) {
    let mut batch = Vec::with_capacity(max_group);
    while waiting.recv_many(&mut batch, max_group).await > 0 {
        let (prepared, replies): (Vec<Prepared>, Vec<_>) =
            batch.drain(..).map(|w| (w.prepared, w.reply)).unzip();
        match store.commit_batch(&prepared).await {
            Ok(results) => {
                for ((prepared, reply), result) in prepared.into_iter().zip(replies).zip(results) {
                    // A waiter that went away (client disconnected) finds its support on
                    // its retry.
                    let _ = reply.send((prepared, result));
                }
            }
            Err(error) => {
                let text = error.to_string();
                for (prepared, reply) in prepared.into_iter().zip(replies) {
                    let error = StoreError::Database(sqlx::Error::Io(std::io::Error::other(
                        format!("group commit failed: {text}"),
                    )));
                    let _ = reply.send((prepared, Err(error)));
                }
            }
        }
    }
}

/// Which supports of an aspirant to list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OutcomeFilter {
    /// Every support.
    Any,
    /// Not verified yet (`outcome` is `NULL`).
    Pending,
    /// Verified with this outcome code (`RollOutcome::code`).
    Code(String),
    /// Verified with any outcome but `valid` (what the hearing may contest).
    Rejected,
}

/// One support in an aspirant's list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SupportListItem {
    pub support_id: i64,
    pub process_id: i64,
    pub sequence: i64,
    pub folio: String,
    pub received_at: String,
    /// `None` for a paper support.
    pub collector_id: Option<i64>,
    /// Captured on paper by OPL staff.
    pub paper: bool,
    pub outcome: Option<String>,
    pub duplicate_of: Option<i64>,
    pub verified_at: Option<String>,
    /// The sección captured from the credential, when present.
    pub section: Option<String>,
    /// The roll's clave de elector of the citizen (unmasked; the caller masks it).
    pub citizen_clave: Option<String>,
}

impl Store {
    /// An aspirant's supports in sequence order, after `after_sequence` (keyset
    /// pagination), at most `limit`, with the outcome filter.
    pub async fn aspirant_supports(
        &self,
        aspirant_id: i64,
        filter: &OutcomeFilter,
        after_sequence: i64,
        limit: i64,
    ) -> Result<Vec<SupportListItem>, StoreError> {
        let (mode, code) = match filter {
            OutcomeFilter::Any => (0_i64, ""),
            OutcomeFilter::Pending => (1, ""),
            OutcomeFilter::Code(code) => (2, code.as_str()),
            OutcomeFilter::Rejected => (3, ""),
        };
        let query = sqlx::query(
            "SELECT id, process_id, sequence, received_at, collector_id, paper, outcome, duplicate_of, \
             verified_at, credential_json, citizen_clave FROM supports \
             WHERE aspirant_id = $1 AND sequence > $2 \
             AND ($3 = 0 OR ($4 = 1 AND outcome IS NULL) OR ($5 = 2 AND outcome = $6) \
                  OR ($8 = 3 AND outcome IS NOT NULL AND outcome <> 'valid')) \
             ORDER BY sequence LIMIT $7",
        )
        .bind(aspirant_id)
        .bind(after_sequence)
        .bind(mode)
        .bind(mode)
        .bind(mode)
        .bind(code);
        let rows = query
            .bind(limit)
            .bind(mode)
            .fetch_all(&self.pool)
            .await
            .map_err(StoreError::Database)?;
        rows.iter()
            .map(|row| {
                let get_i = |c: &str| -> Result<i64, StoreError> {
                    row.try_get(c).map_err(StoreError::Database)
                };
                let process_id = get_i("process_id")?;
                let sequence = get_i("sequence")?;
                let credential: String = row
                    .try_get("credential_json")
                    .map_err(StoreError::Database)?;
                let section = serde_json::from_str::<Value>(&credential)
                    .ok()
                    .and_then(|v| v.get("section").and_then(Value::as_str).map(str::to_owned));
                Ok(SupportListItem {
                    support_id: get_i("id")?,
                    process_id,
                    sequence,
                    folio: folio(process_id, sequence),
                    received_at: row.try_get("received_at").map_err(StoreError::Database)?,
                    collector_id: row.try_get("collector_id").map_err(StoreError::Database)?,
                    paper: get_i("paper")? == 1,
                    outcome: row.try_get("outcome").map_err(StoreError::Database)?,
                    duplicate_of: row.try_get("duplicate_of").map_err(StoreError::Database)?,
                    verified_at: row.try_get("verified_at").map_err(StoreError::Database)?,
                    section,
                    citizen_clave: row.try_get("citizen_clave").map_err(StoreError::Database)?,
                })
            })
            .collect()
    }
}

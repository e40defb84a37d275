//! The verification worker: a background task, started with the app, that takes pending
//! batch re-verifications (a process moved to a new roll snapshot) and verification jobs
//! one at a time and runs them (docs/supports.md, "Verification"). One after the other,
//! never at once: a batch reads a process's supports and writes their outcomes later, so
//! nothing else may verify meanwhile (on PostgreSQL, where every instance runs a worker,
//! the store's process lock keeps other instances' verifications out of a batch). It stops when the app shuts down, after the work
//! in hand.

use std::time::Duration;

use tokio::sync::watch;

use apoyo_store::{Backend, Store};

/// How long the worker waits before looking again when no job is pending.
pub const IDLE_POLL: Duration = Duration::from_millis(200);

/// Attempts of one job before it is left `failed`.
pub const MAX_ATTEMPTS: i64 = 5;

/// How often, on PostgreSQL, the worker looks for work other instances left unfinished
/// (an instance that died holds no lease or lock any more).
pub const RECOVERY_INTERVAL: Duration = Duration::from_secs(60);

/// Runs until `stop` turns true (or its sender is dropped).
pub async fn run(store: Store, mut stop: watch::Receiver<bool>) {
    recover_interrupted_work(&store).await;
    let mut last_recovery = std::time::Instant::now();
    loop {
        if *stop.borrow() {
            break;
        }
        // Often enough that a job is back at most a lease and a half after its worker died.
        let every = RECOVERY_INTERVAL.min(store.job_lease() / 2);
        if store.backend() == Backend::Postgres && last_recovery.elapsed() >= every {
            recover_interrupted_work(&store).await;
            last_recovery = std::time::Instant::now();
        }
        if run_one_reverification(&store).await {
            continue;
        }
        let found = run_one_job(&store).await;
        // After an idle look or a failure, wait; after a verified job, look again at once.
        if !found {
            tokio::select! {
                () = tokio::time::sleep(IDLE_POLL) => {}
                changed = stop.changed() => {
                    if changed.is_err() {
                        break;
                    }
                }
            }
        }
    }
    tracing::debug!("verification worker stopped");
}

/// Puts work interrupted earlier (by a stop or crash of this or, on PostgreSQL, another
/// instance) back to pending.
async fn recover_interrupted_work(store: &Store) {
    match store.reset_stale_jobs().await {
        Ok(0) => {}
        Ok(n) => tracing::info!(
            jobs = n,
            "verification jobs interrupted earlier are pending again"
        ),
        Err(e) => tracing::error!(error = %e, "cannot reset interrupted verification jobs"),
    }
    match store.reset_stale_reverification_runs().await {
        Ok(0) => {}
        Ok(n) => tracing::info!(
            runs = n,
            "re-verifications interrupted earlier are pending again"
        ),
        Err(e) => tracing::error!(error = %e, "cannot reset interrupted re-verifications"),
    }
    // A roll import runs in the instance that received its file, which is gone: it failed
    // for good (SQLite, at start-up: every one; PostgreSQL: those without a heartbeat).
    let stale = match store.backend() {
        Backend::Sqlite => Duration::ZERO,
        Backend::Postgres => store.job_lease(),
    };
    match store.fail_interrupted_roll_imports(Some(stale)).await {
        Ok(0) => {}
        Ok(n) => tracing::warn!(
            imports = n,
            "roll imports interrupted earlier are marked failed; their files must be sent again"
        ),
        Err(e) => tracing::error!(error = %e, "cannot mark interrupted roll imports failed"),
    }
}

/// Takes and runs one verification job; true when one was verified.
async fn run_one_job(store: &Store) -> bool {
    match store.claim_verification_job().await {
        Ok(Some(job)) => {
            match store.verify_support(job.support_id).await {
                Ok(_) => {
                    if let Err(e) = store.finish_verification_job(job.id).await {
                        tracing::error!(job = job.id, error = %e, "cannot mark verification job done");
                    }
                    true
                }
                Err(e) => {
                    let retry = job.attempts < MAX_ATTEMPTS;
                    tracing::error!(
                        job = job.id, support = job.support_id, attempts = job.attempts, retry,
                        error = %e, "verification failed"
                    );
                    if let Err(e) = store
                        .fail_verification_job(job.id, &e.to_string(), retry)
                        .await
                    {
                        tracing::error!(job = job.id, error = %e, "cannot record a failed verification job");
                    }
                    // Wait before the retry (the job is again the oldest pending).
                    false
                }
            }
        }
        Ok(None) => false,
        Err(e) => {
            tracing::error!(error = %e, "cannot take a verification job");
            false
        }
    }
}

/// Runs the oldest pending batch re-verification, if any; true when one ran.
async fn run_one_reverification(store: &Store) -> bool {
    let run = match store.claim_reverification_run().await {
        Ok(Some(run)) => run,
        Ok(None) => return false,
        Err(e) => {
            tracing::error!(error = %e, "cannot take a re-verification run");
            return false;
        }
    };
    let started = std::time::Instant::now();
    match store.run_reverification(run).await {
        Ok(report) => {
            tracing::info!(
                run = run.id,
                process = run.process_id,
                snapshot = run.snapshot_id,
                supports = report.supports,
                changed = report.changed,
                superseded = report.superseded,
                elapsed_ms = started.elapsed().as_millis() as u64,
                "re-verification finished"
            );
            true
        }
        Err(e) => {
            let retry = run.attempts < MAX_ATTEMPTS;
            tracing::error!(run = run.id, process = run.process_id, attempts = run.attempts, retry,
                error = %e, "re-verification failed");
            if let Err(e) = store
                .fail_reverification_run(run.id, &e.to_string(), retry)
                .await
            {
                tracing::error!(run = run.id, error = %e, "cannot record a failed re-verification");
            }
            false
        }
    }
}

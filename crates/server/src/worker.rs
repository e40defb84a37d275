//! The verification worker: a background task, started with the app, that takes pending
//! verification jobs one at a time and verifies their supports (docs/supports.md,
//! "Verification"). It stops when the app shuts down, after the job in hand.

use std::time::Duration;

use tokio::sync::watch;

use apoyo_store::Store;

/// How long the worker waits before looking again when no job is pending.
pub const IDLE_POLL: Duration = Duration::from_millis(200);

/// Attempts of one job before it is left `failed`.
pub const MAX_ATTEMPTS: i64 = 5;

/// Runs until `stop` turns true (or its sender is dropped).
pub async fn run(store: Store, mut stop: watch::Receiver<bool>) {
    match store.reset_stale_jobs().await {
        Ok(0) => {}
        Ok(n) => tracing::info!(
            jobs = n,
            "verification jobs interrupted earlier are pending again"
        ),
        Err(e) => tracing::error!(error = %e, "cannot reset interrupted verification jobs"),
    }
    loop {
        if *stop.borrow() {
            break;
        }
        let found = match store.claim_verification_job().await {
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
        };
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

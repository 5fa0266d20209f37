//! Group commit. Submissions wait in a queue for the one writer task; it takes everything
//! queued (up to [`MAX_BATCH`]) and stores it in one transaction with one audit line, then
//! answers each sender. While one batch commits, the next one gathers, so the batch grows
//! with the load: one submission alone is committed at once, sixty-four at a time share one
//! fsync. Nobody is answered before the commit, so a 201 is always durable.

use std::sync::Arc;

use rumbo_store::Store;
use rumbo_store::collection::{Ingested, NewSubmission};
use rumbo_store::model::Actor;
use tokio::sync::{mpsc, oneshot};

use crate::analytics::Analytics;
use crate::error::{ApiError, ApiResult};

/// The most submissions committed together.
pub const MAX_BATCH: usize = 256;
/// Submissions that may wait for the writer before senders wait to queue.
const QUEUE: usize = 8192;

struct Job {
    submission: NewSubmission,
    reply: oneshot::Sender<ApiResult<Ingested>>,
}

/// The sending side of the writer task.
pub struct Writer {
    queue: mpsc::Sender<Job>,
}

impl Writer {
    /// Starts the writer task (on the current Tokio runtime).
    pub fn start(store: Store, analytics: Arc<Analytics>) -> Self {
        let (queue, jobs) = mpsc::channel(QUEUE);
        tokio::spawn(run(store, analytics, jobs));
        Self { queue }
    }

    /// Queues a submission and waits until its batch has committed.
    pub async fn submit(&self, submission: NewSubmission) -> ApiResult<Ingested> {
        let (reply, answer) = oneshot::channel();
        self.queue
            .send(Job { submission, reply })
            .await
            .map_err(|_| ApiError::Internal("the submission writer has stopped".into()))?;
        answer.await.map_err(|_| ApiError::Internal("the submission writer stopped before answering".into()))?
    }
}

async fn run(store: Store, analytics: Arc<Analytics>, mut jobs: mpsc::Receiver<Job>) {
    let actor = Actor::system("collection");
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while jobs.recv_many(&mut batch, MAX_BATCH).await > 0 {
        let (submissions, replies): (Vec<NewSubmission>, Vec<_>) =
            batch.drain(..).map(|job| (job.submission, job.reply)).unzip();
        // A point created since the indicators were compiled: read the sites again first,
        // so that its submissions count in its admin area.
        let sites = analytics.registry().sites().clone();
        if submissions.iter().any(|s| s.site_id.is_some_and(|id| !sites.contains_key(&id)))
            && let Err(e) = analytics.refresh_sites(&store).await
        {
            tracing::warn!(error = %e, "could not read the sites again");
        }
        let started = std::time::Instant::now();
        let outcomes = store.ingest(&actor, &submissions, analytics.contributor()).await;
        if outcomes.iter().any(|o| matches!(o, Ok(Ingested::Created { .. }))) {
            analytics.changed();
            if submissions.iter().any(|s| analytics.flags().reads(s.form_id)) {
                analytics.flags().changed();
            }
        }
        tracing::debug!(batch = submissions.len(), ms = started.elapsed().as_secs_f64() * 1000.0, "batch committed");
        for (reply, outcome) in replies.into_iter().zip(outcomes) {
            // The sender may have gone (client disconnected): its submission is stored anyway.
            let _ = reply.send(outcome.map_err(ApiError::from));
        }
    }
}

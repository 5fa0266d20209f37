//! How far an upload has got, kept in memory for the page that polls it: the page makes up
//! a random token, sends it with the file, and asks `GET /api/v1/response/uploads/progress/{token}`
//! while the server reads the workbook, checks its rows and stores them. Only the uploader
//! sees her token's progress; entries are forgotten a few minutes after their last change.

use std::collections::HashMap;
use std::sync::{LazyLock, Mutex};
use std::time::{Duration, Instant};

use serde::Serialize;
use utoipa::ToSchema;

/// How long an entry is kept after its last change.
const KEEP: Duration = Duration::from_mins(10);
/// The most entries kept at once (a flood of tokens cannot grow the map without end).
const MOST: usize = 10_000;

/// Where an upload stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// The file is arriving.
    Receiving,
    /// The workbook is being opened and read.
    Reading,
    /// Rows are being checked (`done` of `total`).
    Checking,
    /// The rows are being stored.
    Storing,
    /// Stored.
    Done,
    /// Refused (the answer to the upload says why).
    Failed,
}

/// What the progress endpoint answers.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ProgressReport {
    pub phase: Phase,
    pub done: usize,
    pub total: usize,
}

struct Entry {
    user: i64,
    report: ProgressReport,
    at: Instant,
}

static UPLOADS: LazyLock<Mutex<HashMap<String, Entry>>> = LazyLock::new(|| Mutex::new(HashMap::new()));

fn table() -> std::sync::MutexGuard<'static, HashMap<String, Entry>> {
    UPLOADS.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Is this a token a page may have made up (16 to 64 letters, digits, `-` or `_`)?
fn valid(token: &str) -> bool {
    (16..=64).contains(&token.len()) && token.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The progress of one upload (does nothing when the uploader sent no token).
#[derive(Debug, Clone, Default)]
pub struct Progress {
    key: Option<String>,
    user: i64,
}

impl Progress {
    /// Starts following an upload of `user` under `token`. A token that is malformed, or
    /// already another user's, is not followed.
    pub fn start(token: Option<&str>, user: i64) -> Progress {
        let Some(token) = token.map(str::trim).filter(|t| valid(t)) else { return Progress::default() };
        let mut map = table();
        let now = Instant::now();
        map.retain(|_, e| now.duration_since(e.at) < KEEP);
        match map.get(token) {
            Some(e) if e.user != user => return Progress::default(),
            None if map.len() >= MOST => return Progress::default(),
            _ => {}
        }
        map.insert(
            token.to_string(),
            Entry { user, report: ProgressReport { phase: Phase::Receiving, done: 0, total: 0 }, at: now },
        );
        Progress { key: Some(token.to_string()), user }
    }

    pub fn set(&self, phase: Phase, done: usize, total: usize) {
        let Some(key) = &self.key else { return };
        if let Some(e) = table().get_mut(key)
            && e.user == self.user
        {
            e.report = ProgressReport { phase, done, total };
            e.at = Instant::now();
        }
    }

    /// The upload is over: stored, or refused.
    pub fn finish(&self, stored: bool) {
        let Some(key) = &self.key else { return };
        if let Some(e) = table().get_mut(key)
            && e.user == self.user
        {
            let total = e.report.total;
            e.report = ProgressReport {
                phase: if stored { Phase::Done } else { Phase::Failed },
                done: if stored { total } else { e.report.done },
                total,
            };
            e.at = Instant::now();
        }
    }
}

/// The progress of `user`'s upload under `token` (`None` for another user's token).
pub fn report(token: &str, user: i64) -> Option<ProgressReport> {
    let map = table();
    map.get(token).filter(|e| e.user == user && e.at.elapsed() < KEEP).map(|e| e.report.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_is_its_uploaders_only() {
        let token = "progress-test-token-0001";
        let p = Progress::start(Some(token), 7);
        p.set(Phase::Checking, 200, 1000);
        assert_eq!(report(token, 7).map(|r| (r.phase, r.done, r.total)), Some((Phase::Checking, 200, 1000)));
        assert!(report(token, 8).is_none());
        // Another user cannot take the token over.
        let q = Progress::start(Some(token), 8);
        q.set(Phase::Failed, 0, 0);
        assert_eq!(report(token, 7).map(|r| r.phase), Some(Phase::Checking));
        p.finish(true);
        assert_eq!(report(token, 7).map(|r| (r.phase, r.done)), Some((Phase::Done, 1000)));
        assert!(Progress::start(Some("short"), 7).key.is_none());
    }
}

-- Background exports (SQLite). Keep in step with ../postgres/0005_exports.sql.

-- One export of a form's submissions to a file under the data folder, written by the
-- server's export worker in batches. After each batch the file is flushed and the job row
-- records how far it got (cursor_id: the last submission id written; bytes_written: the
-- file's length then), so that a job interrupted by a restart is resumed where it stopped:
-- the file is cut back to bytes_written and the rows after cursor_id are written.
--   filter:  the review-table filters asked for (JSON).
--   access:  what the creator may see, decided once at creation (JSON: countries,
--            sensitive answers included or dropped).
--   columns: the columns, fixed when the job first runs (JSON; '' until then), so a
--            resumed job writes the same header.
--   worker / lease_until: which server process holds the job, and until when; a running
--            job whose lease ran out (its process stopped) is taken over.
CREATE TABLE export_jobs (
    id             INTEGER PRIMARY KEY,
    user_id        INTEGER NOT NULL REFERENCES users(id),
    form_id        INTEGER NOT NULL REFERENCES forms(id),
    format         TEXT NOT NULL,
    filter         TEXT NOT NULL DEFAULT '{}',
    access         TEXT NOT NULL DEFAULT '{}',
    columns        TEXT NOT NULL DEFAULT '',
    status         TEXT NOT NULL DEFAULT 'queued'
                   CHECK (status IN ('queued', 'running', 'done', 'failed', 'cancelled')),
    rows_done      INTEGER NOT NULL DEFAULT 0,
    rows_total     INTEGER,
    cursor_id      INTEGER NOT NULL DEFAULT 0,
    bytes_written  INTEGER NOT NULL DEFAULT 0,
    file_path      TEXT,
    error          TEXT,
    worker         TEXT,
    lease_until    TEXT,
    created_at     TEXT NOT NULL,
    updated_at     TEXT NOT NULL,
    finished_at    TEXT
);
CREATE INDEX export_jobs_status ON export_jobs(status, id);
CREATE INDEX export_jobs_user ON export_jobs(user_id, id);

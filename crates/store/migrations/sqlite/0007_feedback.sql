-- Complaints and feedback (SQLite). Keep in step with ../postgres/0007_feedback.sql.
--
-- One row per message from a person (a complaint, a question, thanks, an allegation…),
-- taken in on the public web form or by staff from a hotline call, a feedback box or a
-- conversation. The free text is stored sealed (`s1:` + ciphertext, see
-- rumbo_domain::sealing) with a key outside the database; the sealing context is
-- `feedback:<reference>/<column>`, which binds each value to its row and column.
--
--   reference:    the code shown to the person (FB- and 10 base-32 characters, random), with
--                 which she checks the answer on /feedback/status.
--   body:         sealed: what the person said.
--   contact:      sealed: how to reach her (optional; only with her consent).
--   status:       new -> assigned -> responded -> closed (the loop closed with the person).
--   due_on:       the response deadline, set from the category when the item is taken in.
--   response:     sealed: the answer given.
--   loop_closed_at: when the person was told the answer (NULL when closed without reaching her).
--   satisfaction: 1 (very unhappy) to 5 (very happy), as she said when the loop was closed.
--   created_by:   NULL for the public web form.
CREATE TABLE feedback_items (
    id              INTEGER PRIMARY KEY,
    reference       TEXT NOT NULL UNIQUE,
    channel         TEXT NOT NULL CHECK (channel IN ('web', 'hotline', 'box', 'face_to_face')),
    category        TEXT NOT NULL
                    CHECK (category IN ('information_request', 'complaint', 'suggestion', 'thanks', 'psea', 'fraud')),
    sector          TEXT NOT NULL,
    country_code    TEXT NOT NULL REFERENCES countries(code),
    site_id         INTEGER REFERENCES sites(id),
    body            TEXT NOT NULL,
    contact         TEXT,
    wants_reply     BOOLEAN NOT NULL DEFAULT FALSE,
    status          TEXT NOT NULL DEFAULT 'new' CHECK (status IN ('new', 'assigned', 'responded', 'closed')),
    assigned_to     INTEGER REFERENCES users(id),
    assigned_at     TEXT,
    due_on          TEXT NOT NULL,
    response        TEXT,
    responded_by    INTEGER REFERENCES users(id),
    responded_at    TEXT,
    closed_by       INTEGER REFERENCES users(id),
    closed_at       TEXT,
    loop_closed_at  TEXT,
    satisfaction    INTEGER CHECK (satisfaction BETWEEN 1 AND 5),
    created_by      INTEGER REFERENCES users(id),
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL
);
CREATE INDEX feedback_items_country ON feedback_items(country_code, status, id);
CREATE INDEX feedback_items_assigned ON feedback_items(assigned_to, status);

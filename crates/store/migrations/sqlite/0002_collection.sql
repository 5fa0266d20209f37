-- Collection: forms with their versions, submissions with their earlier versions and
-- attachments. (SQLite). Keep in step with ../postgres/0002_collection.sql.

-- HTTP Digest needs MD5(username:realm:password); it is set whenever a password is set or
-- used to sign in, and is NULL until then (Digest then fails and Basic or a token works).
ALTER TABLE users ADD COLUMN digest_ha1 TEXT;

CREATE TABLE forms (
    id                  INTEGER PRIMARY KEY,
    xml_form_id         TEXT NOT NULL UNIQUE,
    title               TEXT NOT NULL,
    open                INTEGER NOT NULL DEFAULT 1,
    public              INTEGER NOT NULL DEFAULT 0,
    accept_with_errors  INTEGER NOT NULL DEFAULT 0,
    current_version_id  INTEGER,
    search              TEXT NOT NULL DEFAULT '',
    created_at          TEXT NOT NULL,
    updated_at          TEXT NOT NULL
);

CREATE TABLE form_versions (
    id          INTEGER PRIMARY KEY,
    form_id     INTEGER NOT NULL REFERENCES forms(id),
    version     TEXT NOT NULL,
    file_name   TEXT NOT NULL,
    xlsform     BLOB NOT NULL,
    xform       TEXT NOT NULL,
    md5         TEXT NOT NULL,
    changes     TEXT NOT NULL DEFAULT '',
    created_by  TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    UNIQUE (form_id, version)
);

CREATE TABLE form_countries (
    form_id       INTEGER NOT NULL REFERENCES forms(id) ON DELETE CASCADE,
    country_code  TEXT NOT NULL REFERENCES countries(code),
    PRIMARY KEY (form_id, country_code)
);

CREATE TABLE form_sites (
    form_id  INTEGER NOT NULL REFERENCES forms(id) ON DELETE CASCADE,
    site_id  INTEGER NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
    PRIMARY KEY (form_id, site_id)
);

CREATE TABLE form_rounds (
    form_id   INTEGER NOT NULL REFERENCES forms(id) ON DELETE CASCADE,
    round_id  INTEGER NOT NULL REFERENCES rounds(id) ON DELETE CASCADE,
    PRIMARY KEY (form_id, round_id)
);

CREATE TABLE submissions (
    id               INTEGER PRIMARY KEY,
    form_id          INTEGER NOT NULL REFERENCES forms(id),
    form_version_id  INTEGER NOT NULL REFERENCES form_versions(id),
    instance_id      TEXT NOT NULL UNIQUE,
    root_id          TEXT NOT NULL,
    country_code     TEXT REFERENCES countries(code),
    site_id          INTEGER REFERENCES sites(id) ON DELETE SET NULL,
    round_id         INTEGER REFERENCES rounds(id) ON DELETE SET NULL,
    submitted_by     INTEGER REFERENCES users(id) ON DELETE SET NULL,
    submitter        TEXT NOT NULL,
    channel          TEXT NOT NULL,
    xml              TEXT NOT NULL,
    xml_sha256       TEXT NOT NULL,
    data             TEXT NOT NULL,
    errors           TEXT NOT NULL DEFAULT '[]',
    error_count      INTEGER NOT NULL DEFAULT 0,
    status           TEXT NOT NULL DEFAULT 'received',
    complete         INTEGER NOT NULL DEFAULT 1,
    edits            INTEGER NOT NULL DEFAULT 0,
    collected_on     TEXT,
    received_at      TEXT NOT NULL,
    updated_at       TEXT NOT NULL,
    deleted_at       TEXT
);
CREATE INDEX submissions_form_received ON submissions(form_id, received_at);
CREATE INDEX submissions_country ON submissions(country_code);

-- Earlier versions of a submission: edits from devices (deprecatedID) and from reviewers.
CREATE TABLE submission_versions (
    id             INTEGER PRIMARY KEY,
    submission_id  INTEGER NOT NULL REFERENCES submissions(id) ON DELETE CASCADE,
    instance_id    TEXT NOT NULL UNIQUE,
    xml            TEXT NOT NULL,
    xml_sha256     TEXT NOT NULL,
    data           TEXT NOT NULL,
    replaced_by    TEXT NOT NULL,
    reason         TEXT NOT NULL,
    replaced_at    TEXT NOT NULL
);
CREATE INDEX submission_versions_submission ON submission_versions(submission_id);

CREATE TABLE attachments (
    id             INTEGER PRIMARY KEY,
    submission_id  INTEGER NOT NULL REFERENCES submissions(id) ON DELETE CASCADE,
    name           TEXT NOT NULL,
    content_type   TEXT NOT NULL,
    size           INTEGER NOT NULL,
    sha256         TEXT NOT NULL,
    content        BLOB NOT NULL,
    UNIQUE (submission_id, name)
);

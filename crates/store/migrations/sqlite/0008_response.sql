-- Response monitoring (5W) (SQLite). Keep in step with ../postgres/0008_response.sql.
--
-- One regional response plan per year: its sectors (sub-sectors name their parent), its
-- indicators (each in one sector; `counts_people` when it counts people rather than other
-- units) and its targets per country, admin 1 (NULL: the whole country) and sector.
-- Saving a plan replaces its sectors, indicators and targets at once.
--
-- Activity reports: what one organisation did for one indicator, in one admin 1 area and
-- month (`month` is the first day of the month), for one population type. The appealing
-- organisation is the one that reports (a partner reporter's own); the implementing one
-- is the partner that carried it out (the same organisation when it did it itself).
--   status:  draft -> submitted -> approved, or returned (with the reviewer's note).
--   flag_*:  raised when the row was stored: late (after the plan's deadline day of the
--            following month), duplicate (same key as another row), outlier (ten times the
--            organisation's usual figure for the indicator).
--   sector_code: the indicator's sector, kept on the row so that filters by sector use an index.
CREATE TABLE response_plans (
    id              INTEGER PRIMARY KEY,
    year            INTEGER NOT NULL UNIQUE,
    name            TEXT NOT NULL,
    period_start    TEXT NOT NULL,
    period_end      TEXT NOT NULL,
    deadline_day    INTEGER NOT NULL CHECK (deadline_day BETWEEN 1 AND 28),
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL
);

CREATE TABLE response_sectors (
    id           INTEGER PRIMARY KEY,
    plan_id      INTEGER NOT NULL REFERENCES response_plans(id) ON DELETE CASCADE,
    code         TEXT NOT NULL,
    parent_code  TEXT,
    name_en      TEXT NOT NULL,
    name_es      TEXT NOT NULL,
    name_pt      TEXT NOT NULL,
    position     INTEGER NOT NULL,
    UNIQUE (plan_id, code)
);

CREATE TABLE response_indicators (
    id             INTEGER PRIMARY KEY,
    plan_id        INTEGER NOT NULL REFERENCES response_plans(id) ON DELETE CASCADE,
    code           TEXT NOT NULL,
    sector_code    TEXT NOT NULL,
    name_en        TEXT NOT NULL,
    name_es        TEXT NOT NULL,
    name_pt        TEXT NOT NULL,
    unit           TEXT NOT NULL,
    counts_people  BOOLEAN NOT NULL,
    position       INTEGER NOT NULL,
    UNIQUE (plan_id, code)
);

CREATE TABLE response_targets (
    id                    INTEGER PRIMARY KEY,
    plan_id               INTEGER NOT NULL REFERENCES response_plans(id) ON DELETE CASCADE,
    country_code          TEXT NOT NULL REFERENCES countries(code),
    admin1_pcode          TEXT,
    sector_code           TEXT NOT NULL,
    people_in_need        INTEGER NOT NULL CHECK (people_in_need >= 0),
    people_targeted       INTEGER NOT NULL CHECK (people_targeted >= 0),
    funding_required_usd  REAL NOT NULL CHECK (funding_required_usd >= 0)
);
CREATE INDEX response_targets_plan ON response_targets(plan_id, country_code, sector_code);

CREATE TABLE activity_uploads (
    id               INTEGER PRIMARY KEY,
    plan_id          INTEGER NOT NULL REFERENCES response_plans(id),
    organisation_id  INTEGER NOT NULL REFERENCES organisations(id),
    file_name        TEXT NOT NULL,
    rows             INTEGER NOT NULL,
    status           TEXT NOT NULL CHECK (status IN ('stored', 'refused')),
    error_summary    TEXT,
    created_by       INTEGER REFERENCES users(id),
    created_at       TEXT NOT NULL
);

CREATE TABLE activity_reports (
    id                   INTEGER PRIMARY KEY,
    plan_id              INTEGER NOT NULL REFERENCES response_plans(id),
    appealing_org_id     INTEGER NOT NULL REFERENCES organisations(id),
    implementing_org_id  INTEGER NOT NULL REFERENCES organisations(id),
    indicator_code       TEXT NOT NULL,
    sector_code          TEXT NOT NULL,
    country_code         TEXT NOT NULL REFERENCES countries(code),
    admin1_pcode         TEXT,
    month                TEXT NOT NULL,
    population_type      TEXT NOT NULL CHECK (population_type IN
                         ('in_destination', 'in_transit', 'host_community', 'pendular', 'colombian_returnees')),
    girls                INTEGER NOT NULL CHECK (girls >= 0),
    boys                 INTEGER NOT NULL CHECK (boys >= 0),
    women                INTEGER NOT NULL CHECK (women >= 0),
    men                  INTEGER NOT NULL CHECK (men >= 0),
    other                INTEGER NOT NULL CHECK (other >= 0),
    total                INTEGER NOT NULL CHECK (total >= 0),
    new_or_recurring     TEXT NOT NULL CHECK (new_or_recurring IN ('new', 'recurring')),
    modality             TEXT CHECK (modality IN ('in_kind', 'cash', 'voucher', 'service')),
    cash_value_usd       REAL CHECK (cash_value_usd >= 0),
    status               TEXT NOT NULL DEFAULT 'submitted'
                         CHECK (status IN ('draft', 'submitted', 'approved', 'returned')),
    reviewer_note        TEXT,
    reviewed_by          INTEGER REFERENCES users(id),
    reviewed_at          TEXT,
    flag_late            BOOLEAN NOT NULL DEFAULT FALSE,
    flag_duplicate       BOOLEAN NOT NULL DEFAULT FALSE,
    flag_outlier         BOOLEAN NOT NULL DEFAULT FALSE,
    upload_id            INTEGER REFERENCES activity_uploads(id),
    created_by           INTEGER REFERENCES users(id),
    created_at           TEXT NOT NULL,
    updated_at           TEXT NOT NULL
);
CREATE INDEX activity_reports_org_month ON activity_reports(plan_id, appealing_org_id, month);
CREATE INDEX activity_reports_implementing ON activity_reports(plan_id, implementing_org_id, month);
CREATE INDEX activity_reports_country_sector ON activity_reports(plan_id, country_code, sector_code, indicator_code);
CREATE INDEX activity_reports_status ON activity_reports(plan_id, status);

-- Protection (SQLite): red flags, cases, consent, the service directory and referrals.
-- Keep in step with ../postgres/0006_protection.sql.
--
-- Identifying fields (names, dates of birth, phones, documents, addresses, narratives) are
-- stored sealed (`s1:` + XChaCha20-Poly1305 ciphertext, see rumbo_domain::sealing) with a
-- key kept outside the database; the columns below that hold them say `sealed`.

-- A red-flag rule: an expression over a form's fields; a submission for which it is true
-- raises an alert, in the transaction that stores the submission.
--   route_country: the country team the rule is for: it reads that country's submissions
--                  and alerts its team (NULL: every country of the form, each its own team).
--   route_site_id: a site team: only that site's submissions (NULL: the whole country).
CREATE TABLE flag_rules (
    id             INTEGER PRIMARY KEY,
    form_id        INTEGER NOT NULL REFERENCES forms(id),
    name           TEXT NOT NULL,
    expression     TEXT NOT NULL,
    severity       TEXT NOT NULL CHECK (severity IN ('low', 'medium', 'high', 'critical')),
    message_en     TEXT NOT NULL,
    message_es     TEXT NOT NULL,
    message_pt     TEXT NOT NULL,
    route_country  TEXT REFERENCES countries(code),
    route_site_id  INTEGER REFERENCES sites(id),
    active         BOOLEAN NOT NULL DEFAULT TRUE,
    created_by     INTEGER REFERENCES users(id),
    created_at     TEXT NOT NULL,
    updated_at     TEXT NOT NULL,
    UNIQUE (form_id, name)
);

-- An alert raised by a rule on a submission.
CREATE TABLE alerts (
    id             INTEGER PRIMARY KEY,
    rule_id        INTEGER NOT NULL REFERENCES flag_rules(id),
    submission_id  INTEGER NOT NULL REFERENCES submissions(id),
    country_code   TEXT NOT NULL,
    site_id        INTEGER REFERENCES sites(id),
    severity       TEXT NOT NULL,
    status         TEXT NOT NULL DEFAULT 'open'
                   CHECK (status IN ('open', 'acknowledged', 'dismissed', 'case_opened')),
    reason         TEXT,
    handled_by     INTEGER REFERENCES users(id),
    handled_at     TEXT,
    case_id        INTEGER,
    created_at     TEXT NOT NULL,
    UNIQUE (rule_id, submission_id)
);
CREATE INDEX alerts_inbox ON alerts(country_code, status, id);

-- A person followed by a caseworker, known by a pseudonymous code.
--   identity: sealed JSON (given_name, family_name, date_of_birth, phone, document, address).
--   document_index: blind index (keyed hash) of the document number, for exact search.
--   vulnerabilities: space-separated codes (uasc vot gbv pregnant_lactating disability
--                    chronic_illness older_person sogiesc).
CREATE TABLE cases (
    id               INTEGER PRIMARY KEY,
    code             TEXT NOT NULL UNIQUE,
    country_code     TEXT NOT NULL REFERENCES countries(code),
    organisation_id  INTEGER REFERENCES organisations(id),
    caseworker_id    INTEGER NOT NULL REFERENCES users(id),
    status           TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'closed')),
    risk             TEXT NOT NULL DEFAULT 'medium' CHECK (risk IN ('low', 'medium', 'high')),
    sex              TEXT NOT NULL DEFAULT '',
    age_group        TEXT NOT NULL DEFAULT '',
    nationality      TEXT NOT NULL DEFAULT '',
    vulnerabilities  TEXT NOT NULL DEFAULT '',
    identity         TEXT NOT NULL,
    document_index   TEXT,
    alert_id         INTEGER REFERENCES alerts(id),
    opened_by        INTEGER REFERENCES users(id),
    opened_at        TEXT NOT NULL,
    updated_at       TEXT NOT NULL,
    closed_at        TEXT,
    closure_reason   TEXT
);
CREATE INDEX cases_caseload ON cases(caseworker_id, status);
CREATE INDEX cases_country ON cases(country_code, status);
CREATE INDEX cases_document ON cases(document_index);

-- Informed consent: what the person agreed to, when, recorded by whom; withdrawn by whom.
--   purposes: space-separated (case_management referral share_identity share_contact
--             share_vulnerabilities share_assessment).
CREATE TABLE case_consents (
    id               INTEGER PRIMARY KEY,
    case_id          INTEGER NOT NULL REFERENCES cases(id),
    purposes         TEXT NOT NULL,
    method           TEXT NOT NULL CHECK (method IN ('verbal', 'written', 'guardian')),
    given_on         TEXT NOT NULL,
    recorded_by      INTEGER NOT NULL REFERENCES users(id),
    recorded_at      TEXT NOT NULL,
    withdrawn_at     TEXT,
    withdrawn_by     INTEGER REFERENCES users(id),
    withdrawal_note  TEXT
);
CREATE INDEX case_consents_case ON case_consents(case_id, id);

-- The case file: assessments, the service plan, follow-ups, notes, transfers, closure.
--   body: sealed text.  due_on / done_at: for service-plan actions and follow-ups.
CREATE TABLE case_entries (
    id         INTEGER PRIMARY KEY,
    case_id    INTEGER NOT NULL REFERENCES cases(id),
    kind       TEXT NOT NULL
               CHECK (kind IN ('assessment', 'service_plan', 'follow_up', 'note', 'transfer', 'closure', 'reopening')),
    body       TEXT NOT NULL,
    due_on     TEXT,
    done_at    TEXT,
    author_id  INTEGER NOT NULL REFERENCES users(id),
    at         TEXT NOT NULL
);
CREATE INDEX case_entries_case ON case_entries(case_id, id);

-- The service directory: who offers what, where, to whom. search: name, organisation and
-- eligibility folded by Rust.
CREATE TABLE services (
    id               INTEGER PRIMARY KEY,
    organisation_id  INTEGER NOT NULL REFERENCES organisations(id),
    name             TEXT NOT NULL,
    sector           TEXT NOT NULL
                     CHECK (sector IN ('health', 'mhpss', 'shelter', 'legal', 'cash', 'child_protection', 'gbv', 'livelihoods')),
    country_code     TEXT NOT NULL REFERENCES countries(code),
    admin1_pcode     TEXT,
    site_id          INTEGER REFERENCES sites(id),
    latitude         REAL,
    longitude        REAL,
    address          TEXT NOT NULL DEFAULT '',
    eligibility      TEXT NOT NULL DEFAULT '',
    contact          TEXT NOT NULL DEFAULT '',
    hours            TEXT NOT NULL DEFAULT '',
    languages        TEXT NOT NULL DEFAULT '',
    search           TEXT NOT NULL DEFAULT '',
    public           BOOLEAN NOT NULL DEFAULT TRUE,
    active           BOOLEAN NOT NULL DEFAULT TRUE,
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL
);
CREATE INDEX services_place ON services(country_code, sector);

-- A referral of a case to a service of another (or the same) organisation.
--   shared: space-separated parts of the case the person consented to share when it was sent
--           (identity contact vulnerabilities assessment); what the receiver sees is also
--           limited by the consent in force when it looks.
--   note: sealed text.  respond_by: the deadline for the next step.
CREATE TABLE referrals (
    id               INTEGER PRIMARY KEY,
    code             TEXT NOT NULL UNIQUE,
    case_id          INTEGER NOT NULL REFERENCES cases(id),
    from_org_id      INTEGER REFERENCES organisations(id),
    service_id       INTEGER NOT NULL REFERENCES services(id),
    to_org_id        INTEGER NOT NULL REFERENCES organisations(id),
    country_code     TEXT NOT NULL,
    status           TEXT NOT NULL DEFAULT 'sent'
                     CHECK (status IN ('sent', 'accepted', 'declined', 'provided', 'closed')),
    urgency          TEXT NOT NULL DEFAULT 'normal' CHECK (urgency IN ('normal', 'urgent')),
    shared           TEXT NOT NULL DEFAULT '',
    note             TEXT NOT NULL,
    respond_by       TEXT NOT NULL,
    created_by       INTEGER NOT NULL REFERENCES users(id),
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL
);
CREATE INDEX referrals_to ON referrals(to_org_id, status);
CREATE INDEX referrals_case ON referrals(case_id);

-- Each hand-off of a referral, with its receipt (a hash over the hand-off and the one before).
CREATE TABLE referral_events (
    id           INTEGER PRIMARY KEY,
    referral_id  INTEGER NOT NULL REFERENCES referrals(id),
    from_status  TEXT,
    to_status    TEXT NOT NULL,
    by_user      INTEGER NOT NULL REFERENCES users(id),
    by_org       INTEGER REFERENCES organisations(id),
    note         TEXT NOT NULL,
    at           TEXT NOT NULL,
    receipt      TEXT NOT NULL
);
CREATE INDEX referral_events_referral ON referral_events(referral_id, id);

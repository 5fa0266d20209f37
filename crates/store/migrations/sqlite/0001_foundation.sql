-- Foundation schema. `search` columns hold the searchable text folded by Rust (lower case,
-- no accents), so that a search behaves the same on both engines.
-- (SQLite). Keep in step with ../postgres/0001_foundation.sql.
CREATE TABLE countries (
    code        TEXT PRIMARY KEY CHECK (length(code) = 3),
    iso2        TEXT NOT NULL CHECK (length(iso2) = 2),
    name_en     TEXT NOT NULL,
    name_es     TEXT NOT NULL,
    name_pt     TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);

CREATE TABLE admin_areas (
    id            INTEGER PRIMARY KEY,
    country_code  TEXT NOT NULL REFERENCES countries(code),
    pcode         TEXT NOT NULL UNIQUE,
    level         INTEGER NOT NULL CHECK (level BETWEEN 1 AND 5),
    parent_id     INTEGER REFERENCES admin_areas(id),
    name_en       TEXT NOT NULL,
    name_es       TEXT NOT NULL,
    name_pt       TEXT NOT NULL,
    geometry      TEXT,
    search        TEXT NOT NULL DEFAULT '',
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL
);
CREATE INDEX admin_areas_country_level ON admin_areas(country_code, level);
CREATE INDEX admin_areas_parent ON admin_areas(parent_id);

CREATE TABLE sites (
    id             INTEGER PRIMARY KEY,
    country_code   TEXT NOT NULL REFERENCES countries(code),
    code           TEXT NOT NULL UNIQUE,
    name           TEXT NOT NULL,
    kind           TEXT NOT NULL,
    latitude       REAL NOT NULL,
    longitude      REAL NOT NULL,
    admin_area_id  INTEGER REFERENCES admin_areas(id),
    active         INTEGER NOT NULL DEFAULT 1,
    search        TEXT NOT NULL DEFAULT '',
    created_at     TEXT NOT NULL,
    updated_at     TEXT NOT NULL
);
CREATE INDEX sites_country ON sites(country_code);

CREATE TABLE rounds (
    id            INTEGER PRIMARY KEY,
    country_code  TEXT NOT NULL REFERENCES countries(code),
    name          TEXT NOT NULL,
    starts_on     TEXT NOT NULL,
    ends_on       TEXT NOT NULL,
    status        TEXT NOT NULL,
    search        TEXT NOT NULL DEFAULT '',
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL,
    UNIQUE (country_code, name)
);

CREATE TABLE organisations (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    acronym     TEXT NOT NULL,
    kind        TEXT NOT NULL,
    search        TEXT NOT NULL DEFAULT '',
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);

CREATE TABLE users (
    id               INTEGER PRIMARY KEY,
    username         TEXT NOT NULL UNIQUE,
    display_name     TEXT NOT NULL,
    password_hash    TEXT NOT NULL,
    role             TEXT NOT NULL,
    organisation_id  INTEGER REFERENCES organisations(id),
    all_countries    INTEGER NOT NULL DEFAULT 0,
    active           INTEGER NOT NULL DEFAULT 1,
    failed_logins    INTEGER NOT NULL DEFAULT 0,
    locked_until     TEXT,
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL
);

CREATE TABLE user_countries (
    user_id       INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    country_code  TEXT NOT NULL REFERENCES countries(code),
    PRIMARY KEY (user_id, country_code)
);

CREATE TABLE sessions (
    token_hash  TEXT PRIMARY KEY,
    user_id     INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    csrf_token  TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    expires_at  TEXT NOT NULL
);

CREATE TABLE api_tokens (
    id            INTEGER PRIMARY KEY,
    user_id       INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name          TEXT NOT NULL,
    token_hash    TEXT NOT NULL UNIQUE,
    created_at    TEXT NOT NULL,
    expires_at    TEXT,
    last_used_at  TEXT
);

CREATE TABLE audit_log (
    id            INTEGER PRIMARY KEY,
    at            TEXT NOT NULL,
    actor_id      INTEGER,
    actor         TEXT NOT NULL,
    action        TEXT NOT NULL,
    entity        TEXT NOT NULL,
    entity_id     TEXT NOT NULL,
    country_code  TEXT,
    detail        TEXT NOT NULL,
    prev_hash     TEXT NOT NULL,
    hash          TEXT NOT NULL
);

-- Facts about the instance itself (SQLite). Keep in step with ../postgres/0009_instance.sql.
--   protection_key: the fingerprint of the key the sealed fields were sealed with, so that a
--                   server started with another key (or a new one) refuses to run instead
--                   of sealing new data with it.
CREATE TABLE instance_facts (
    name   TEXT PRIMARY KEY,
    value  TEXT NOT NULL
);

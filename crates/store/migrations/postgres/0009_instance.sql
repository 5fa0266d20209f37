-- Facts about the instance itself (PostgreSQL). Keep in step with ../sqlite/0009_instance.sql,
-- which says what they are.
CREATE TABLE instance_facts (
    name   TEXT PRIMARY KEY,
    value  TEXT NOT NULL
);

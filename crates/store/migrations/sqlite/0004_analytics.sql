-- Indicators and their live aggregates (sqlite). Keep in step with the other engine's 0004.

-- An indicator is declared, not coded: its definition (JSON) names a form, a kind, the
-- expressions over the form's fields, the disaggregations it allows and how public it is.
CREATE TABLE indicators (
    id           TEXT PRIMARY KEY,
    form         TEXT NOT NULL,
    definition   TEXT NOT NULL,
    position     INTEGER NOT NULL DEFAULT 0,
    created_by   TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL
);

-- One row per indicator, cube and cell: sums over the submissions (or repeat entries)
-- that fall in the cell. A cube keeps some dimensions and rolls the others up ('' or 0),
-- so that a question is answered from the smallest cube that holds its dimensions.
-- n: units; num: sum of values (or numerator); num2: sum of squared values; den: sum of
-- the denominator. Written in the same transaction as the submission that changes them.
CREATE TABLE agg_cells (
    indicator         TEXT NOT NULL,
    cube              INTEGER NOT NULL,
    round_id          INTEGER NOT NULL,
    day               INTEGER NOT NULL,
    month             INTEGER NOT NULL,
    site_id           INTEGER NOT NULL,
    country           TEXT NOT NULL,
    adm1              TEXT NOT NULL,
    sex               TEXT NOT NULL,
    age_group         TEXT NOT NULL,
    nationality       TEXT NOT NULL,
    population_group  TEXT NOT NULL,
    direction         TEXT NOT NULL,
    origin            TEXT NOT NULL,
    destination       TEXT NOT NULL,
    n                 INTEGER NOT NULL,
    num               REAL NOT NULL,
    num2              REAL NOT NULL,
    den               REAL NOT NULL,
    PRIMARY KEY (indicator, cube, round_id, day, month, site_id, country, adm1, sex, age_group,
                 nationality, population_group, direction, origin, destination)
);

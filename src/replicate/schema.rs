//! The `ragtrail` schema in PostgreSQL, migrated forward by versions: the
//! events as the source holds them, where each source has got to, the
//! digests it signed, and read models for people who live in Power BI,
//! with `ragtrail.board_as_at`. Each version is applied once, in one
//! transaction, and recorded in `ragtrail.schema_version`.

/// The migrations, in order: version `i + 1` is `MIGRATIONS[i]`.
pub const MIGRATIONS: [&str; 1] = [V1];

const V1: &str = r#"
CREATE TABLE ragtrail.sources (
    instance text PRIMARY KEY,
    url text NOT NULL,
    position bigint NOT NULL DEFAULT 0,
    hash text NOT NULL DEFAULT '0000000000000000000000000000000000000000000000000000000000000000',
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE ragtrail.events (
    instance text NOT NULL REFERENCES ragtrail.sources (instance),
    position bigint NOT NULL,
    id uuid NOT NULL,
    stream uuid NOT NULL,
    version bigint NOT NULL,
    type text NOT NULL,
    effective date NOT NULL,
    recorded_at timestamptz NOT NULL,
    actor text NOT NULL,
    reason text,
    data jsonb NOT NULL,
    hash text NOT NULL,
    prev_hash text NOT NULL,
    PRIMARY KEY (instance, position)
);
CREATE INDEX events_stream ON ragtrail.events (instance, stream, position);
CREATE TABLE ragtrail.digests (
    instance text NOT NULL REFERENCES ragtrail.sources (instance),
    position bigint NOT NULL,
    head text NOT NULL,
    signed_at timestamptz NOT NULL,
    key text NOT NULL,
    signature text NOT NULL,
    PRIMARY KEY (instance, position, signed_at)
);
CREATE TABLE ragtrail.programmes (
    instance text NOT NULL,
    id uuid NOT NULL,
    name text NOT NULL,
    authority text NOT NULL,
    sponsor text,
    PRIMARY KEY (instance, id)
);
CREATE TABLE ragtrail.items (
    instance text NOT NULL,
    id uuid NOT NULL,
    programme uuid NOT NULL,
    parent uuid,
    kind text NOT NULL,
    reference text NOT NULL,
    title text NOT NULL,
    owner text,
    target_date date,
    registered date NOT NULL,
    PRIMARY KEY (instance, id)
);
CREATE TABLE ragtrail.board_meetings (
    instance text NOT NULL,
    event uuid NOT NULL,
    programme uuid NOT NULL,
    board text NOT NULL,
    date date NOT NULL,
    PRIMARY KEY (instance, event)
);
-- A RAG change as in force: a correction replaces its values (and its
-- stamp: who, when, why) in place, or withdraws it.
CREATE TABLE ragtrail.rag_changes (
    instance text NOT NULL,
    event uuid NOT NULL,
    item uuid NOT NULL,
    dimension text NOT NULL,
    rag text NOT NULL,
    effective date NOT NULL,
    position bigint NOT NULL,
    set_position bigint NOT NULL,
    actor text NOT NULL,
    recorded_at timestamptz NOT NULL,
    reason text,
    corrected_by uuid,
    withdrawn boolean NOT NULL DEFAULT false,
    PRIMARY KEY (instance, event)
);
CREATE INDEX rag_changes_item ON ragtrail.rag_changes (instance, item, dimension, effective, position);
CREATE TABLE ragtrail.metrics (
    instance text NOT NULL,
    id uuid NOT NULL,
    item uuid,
    reference text,
    name text NOT NULL,
    unit text NOT NULL,
    good_direction text NOT NULL,
    PRIMARY KEY (instance, id)
);
-- A reading's value is a number in the metric's unit: pounds for gbp, 1 or 0 for yes_no.
CREATE TABLE ragtrail.metric_readings (
    instance text NOT NULL,
    event uuid NOT NULL,
    metric uuid NOT NULL,
    period text NOT NULL,
    period_end date NOT NULL,
    value double precision,
    unit text,
    target double precision,
    rag text,
    note text,
    effective date NOT NULL,
    position bigint NOT NULL,
    PRIMARY KEY (instance, event)
);
CREATE TABLE ragtrail.target_date_revisions (
    instance text NOT NULL,
    event uuid NOT NULL,
    item uuid NOT NULL,
    target_date date NOT NULL,
    effective date NOT NULL,
    position bigint NOT NULL,
    actor text NOT NULL,
    reason text,
    PRIMARY KEY (instance, event)
);

-- The board as at a date: one row per item and dimension, with the RAG in
-- force then and who set it, when and why (the correction's, when corrected).
CREATE FUNCTION ragtrail.board_as_at(as_at date, programme uuid DEFAULT NULL, instance text DEFAULT NULL)
RETURNS TABLE (
    instance text, programme uuid, item uuid, reference text, title text,
    dimension text, rag text, set_by text, effective date, recorded_at timestamptz,
    reason text, set_position bigint
)
LANGUAGE sql STABLE AS $$
    SELECT DISTINCT ON (i.instance, i.id, r.dimension)
        i.instance, i.programme, i.id, i.reference, i.title,
        r.dimension, r.rag, r.actor, r.effective, r.recorded_at, r.reason, r.set_position
    FROM ragtrail.items i
    JOIN ragtrail.rag_changes r ON r.instance = i.instance AND r.item = i.id
    WHERE i.registered <= board_as_at.as_at
      AND r.effective <= board_as_at.as_at
      AND NOT r.withdrawn
      AND (board_as_at.programme IS NULL OR i.programme = board_as_at.programme)
      AND (board_as_at.instance IS NULL OR i.instance = board_as_at.instance)
    ORDER BY i.instance, i.id, r.dimension, r.effective DESC, r.position DESC
$$;
"#;

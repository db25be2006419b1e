//! PostgreSQL's side of replication: the schema migrated forward, the
//! high-water mark of each source, and batches of events applied exactly
//! once, in position order, in one transaction each, with the read models.
//! Every event is checked before it is written: it must continue the chain
//! PostgreSQL holds (next position, `prev_hash` = the last `hash`), and its
//! fields must re-encode to its own hash. A source whose log forks from what
//! PostgreSQL holds is refused, never mixed in.

use super::schema::MIGRATIONS;
use crate::wire::EnvelopeView;
use ragtrail_events::envelope;
use ragtrail_events::{Envelope, Event, Value};
use tokio_postgres::{GenericClient, Transaction};
use uuid::Uuid;

/// Why replication stopped.
#[derive(Debug, thiserror::Error)]
pub enum SinkError {
    #[error("PostgreSQL: {}", detail(.0))]
    Postgres(#[from] tokio_postgres::Error),
    #[error("the source's event at position {position} is not the one PostgreSQL holds for instance {instance:?} (hash {held} there, {given} at the source): the source's log was rewritten. Nothing more is applied; replicate it as a new --instance, or find out why the log changed")]
    Fork {
        instance: String,
        position: u64,
        held: String,
        given: String,
    },
    #[error("the source skipped from position {held} to {given}; nothing was applied")]
    Gap { held: u64, given: u64 },
    #[error("event {position} does not check: {detail}")]
    Bad { position: u64, detail: String },
}

/// What PostgreSQL said: its message, detail and hint, not just "db error".
fn detail(e: &tokio_postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => {
            let mut s = format!("{} ({})", db.message(), db.code().code());
            if let Some(d) = db.detail() {
                s.push_str(&format!("; {d}"));
            }
            if let Some(h) = db.hint() {
                s.push_str(&format!("; {h}"));
            }
            s
        }
        None => match std::error::Error::source(e) {
            Some(cause) => format!("{e}: {cause}"),
            None => e.to_string(),
        },
    }
}

/// Creates the schema if it is new and applies every migration not yet applied.
pub async fn migrate(client: &mut tokio_postgres::Client) -> Result<u32, SinkError> {
    let tx = client.transaction().await?;
    // One migrator at a time, whatever else connects.
    tx.execute("SELECT pg_advisory_xact_lock(7261677472616931)", &[])
        .await?;
    tx.batch_execute(
        "CREATE SCHEMA IF NOT EXISTS ragtrail;
         CREATE TABLE IF NOT EXISTS ragtrail.schema_version (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now());",
    )
    .await?;
    let have: i32 = tx
        .query_one(
            "SELECT COALESCE(MAX(version), 0) FROM ragtrail.schema_version",
            &[],
        )
        .await?
        .get(0);
    for (i, sql) in MIGRATIONS.iter().enumerate() {
        let v = i as i32 + 1;
        if v > have {
            tx.batch_execute(sql).await?;
            tx.execute(
                "INSERT INTO ragtrail.schema_version (version) VALUES ($1)",
                &[&v],
            )
            .await?;
        }
    }
    tx.commit().await?;
    Ok(MIGRATIONS.len() as u32)
}

/// Where PostgreSQL has got to for `instance`: the last position and its hash.
pub async fn high_water(
    client: &impl GenericClient,
    instance: &str,
    url: &str,
) -> Result<(u64, String), SinkError> {
    client
        .execute(
            "INSERT INTO ragtrail.sources (instance, url) VALUES ($1, $2) ON CONFLICT (instance) DO NOTHING",
            &[&instance, &url],
        )
        .await?;
    let row = client
        .query_one(
            "SELECT position, hash FROM ragtrail.sources WHERE instance = $1",
            &[&instance],
        )
        .await?;
    Ok((row.get::<_, i64>(0) as u64, row.get(1)))
}

/// The hash PostgreSQL holds for `instance` at `position`.
pub async fn hash_at(
    client: &impl GenericClient,
    instance: &str,
    position: u64,
) -> Result<Option<String>, SinkError> {
    Ok(client
        .query_opt(
            "SELECT hash FROM ragtrail.events WHERE instance = $1 AND position = $2",
            &[&instance, &(position as i64)],
        )
        .await?
        .map(|r| r.get(0)))
}

/// The stored envelope of a view, re-encoded: its hash must be its own.
fn checked(v: &EnvelopeView) -> Result<Envelope, SinkError> {
    let bad = |detail: String| SinkError::Bad {
        position: v.position,
        detail,
    };
    let e = v.to_envelope().map_err(|f| bad(f.to_string()))?;
    let (_, again) =
        envelope::encode_as_exported(&e).map_err(|err| bad(format!("cannot be encoded: {err}")))?;
    if again.hash != e.hash || again.payload_hash != e.payload_hash {
        return Err(bad(
            "its fields do not hash to its hash: it was altered on the way".into(),
        ));
    }
    Ok(e)
}

/// Applies `events` (in position order) for `instance`, in one transaction:
/// those PostgreSQL holds already are checked and skipped, the rest must
/// continue the chain. Returns the new high-water position.
pub async fn apply(
    client: &mut tokio_postgres::Client,
    instance: &str,
    events: &[EnvelopeView],
) -> Result<u64, SinkError> {
    let tx = client.transaction().await?;
    let row = tx
        .query_one(
            "SELECT position, hash FROM ragtrail.sources WHERE instance = $1 FOR UPDATE",
            &[&instance],
        )
        .await?;
    let (mut position, mut hash): (u64, String) = (row.get::<_, i64>(0) as u64, row.get(1));
    let mut new = Vec::with_capacity(events.len());
    for v in events {
        if v.position <= position {
            let held = hash_at(&tx, instance, v.position)
                .await?
                .unwrap_or_default();
            if held != v.hash {
                return Err(SinkError::Fork {
                    instance: instance.into(),
                    position: v.position,
                    held,
                    given: v.hash.clone(),
                });
            }
            continue;
        }
        if v.position != position + 1 {
            return Err(SinkError::Gap {
                held: position,
                given: v.position,
            });
        }
        if v.prev_hash != hash {
            return Err(SinkError::Fork {
                instance: instance.into(),
                position,
                held: hash,
                given: v.prev_hash.clone(),
            });
        }
        new.push((v, checked(v)?));
        position = v.position;
        hash = v.hash.clone();
    }
    insert(&tx, instance, &new).await?;
    for (_, e) in &new {
        read_models(&tx, instance, e).await?;
    }
    tx.execute(
        "UPDATE ragtrail.sources SET position = $2, hash = $3, updated_at = now() WHERE instance = $1",
        &[&instance, &(position as i64), &hash],
    )
    .await?;
    tx.commit().await?;
    Ok(position)
}

/// Records a digest the source signed.
pub async fn digest(
    client: &impl GenericClient,
    instance: &str,
    d: &crate::signing::SignedDigest,
) -> Result<(), SinkError> {
    client
        .execute(
            "INSERT INTO ragtrail.digests (instance, position, head, signed_at, key, signature) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
            &[&instance, &(d.position as i64), &d.head, &d.signed_at, &d.key, &d.signature],
        )
        .await?;
    Ok(())
}

/// A metric value as a number, with its kind.
fn number(v: Option<Value>) -> (Option<f64>, Option<&'static str>) {
    match v {
        None => (None, None),
        Some(Value::Number(n)) => (Some(n), Some("number")),
        Some(Value::Pence(p)) => (Some(p as f64 / 100.0), Some("gbp")),
        Some(Value::YesNo(b)) => (Some(if b { 1.0 } else { 0.0 }), Some("yes_no")),
    }
}

/// The events, in one statement (a round trip per batch, not per event).
async fn insert(
    tx: &Transaction<'_>,
    instance: &str,
    new: &[(&EnvelopeView, Envelope)],
) -> Result<(), SinkError> {
    if new.is_empty() {
        return Ok(());
    }
    let col = |f: &dyn Fn(&EnvelopeView) -> String| {
        new.iter().map(|(v, _)| f(v)).collect::<Vec<String>>()
    };
    let positions: Vec<i64> = new.iter().map(|(v, _)| v.position as i64).collect();
    let ids: Vec<Uuid> = new.iter().map(|(v, _)| v.id).collect();
    let streams: Vec<Uuid> = new.iter().map(|(v, _)| v.stream).collect();
    let versions: Vec<i64> = new.iter().map(|(v, _)| v.version as i64).collect();
    let effective: Vec<chrono::NaiveDate> = new.iter().map(|(v, _)| v.effective).collect();
    let recorded: Vec<chrono::DateTime<chrono::Utc>> =
        new.iter().map(|(v, _)| v.recorded_at).collect();
    let reasons: Vec<Option<String>> = new.iter().map(|(v, _)| v.reason.clone()).collect();
    let data: Vec<serde_json::Value> = new.iter().map(|(v, _)| v.data.clone()).collect();
    tx.execute(
        "INSERT INTO ragtrail.events (instance, position, id, stream, version, type, effective, recorded_at, actor, reason, data, hash, prev_hash)
         SELECT $1, * FROM UNNEST($2::bigint[], $3::uuid[], $4::uuid[], $5::bigint[], $6::text[], $7::date[], $8::timestamptz[], $9::text[], $10::text[], $11::jsonb[], $12::text[], $13::text[])",
        &[
            &instance, &positions, &ids, &streams, &versions, &col(&|v| v.type_name.clone()),
            &effective, &recorded, &col(&|v| v.actor.clone()), &reasons, &data,
            &col(&|v| v.hash.clone()), &col(&|v| v.prev_hash.clone()),
        ],
    )
    .await?;
    Ok(())
}

/// The typed tables, kept as ragtrail's projections keep their views.
async fn read_models(tx: &Transaction<'_>, instance: &str, e: &Envelope) -> Result<(), SinkError> {
    let p = e.position as i64;
    match &e.event {
        Event::ProgrammeRegistered {
            name,
            authority,
            sponsor,
        } => {
            tx.execute(
                "INSERT INTO ragtrail.programmes VALUES ($1, $2, $3, $4, $5)
                 ON CONFLICT (instance, id) DO UPDATE SET name = $3, authority = $4, sponsor = $5",
                &[&instance, &e.stream, name, authority, sponsor],
            )
            .await?;
        }
        Event::ItemRegistered {
            programme,
            parent,
            kind,
            reference,
            title,
            owner,
            target_date,
            ..
        } => {
            tx.execute(
                "INSERT INTO ragtrail.items VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
                 ON CONFLICT (instance, id) DO UPDATE SET programme = $3, parent = $4, kind = $5, reference = $6, title = $7, owner = $8, target_date = $9, registered = $10",
                &[&instance, &e.stream, programme, parent, &kind.to_string(), reference, title, owner, target_date, &e.effective],
            )
            .await?;
        }
        Event::ItemAmended { title, owner, .. } => {
            tx.execute(
                "UPDATE ragtrail.items SET title = COALESCE($3, title), owner = COALESCE($4, owner) WHERE instance = $1 AND id = $2",
                &[&instance, &e.stream, title, owner],
            )
            .await?;
        }
        Event::BoardMeetingHeld { board, date } => {
            tx.execute(
                "INSERT INTO ragtrail.board_meetings VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
                &[&instance, &e.id, &e.stream, board, date],
            )
            .await?;
        }
        Event::RagChanged { dimension, rag } => {
            tx.execute(
                "INSERT INTO ragtrail.rag_changes (instance, event, item, dimension, rag, effective, position, set_position, actor, recorded_at, reason)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $7, $8, $9, $10)",
                &[&instance, &e.id, &e.stream, &dimension.to_string(), &rag.to_string(), &e.effective, &p, &e.actor, &e.recorded_at, &e.reason],
            )
            .await?;
        }
        Event::MetricDefined {
            item,
            reference,
            name,
            unit,
            good_direction,
            ..
        } => {
            tx.execute(
                "INSERT INTO ragtrail.metrics VALUES ($1, $2, $3, $4, $5, $6, $7)
                 ON CONFLICT (instance, id) DO UPDATE SET item = $3, reference = $4, name = $5, unit = $6, good_direction = $7",
                &[&instance, &e.stream, item, reference, name, &unit.to_string(), &good_direction.to_string()],
            )
            .await?;
        }
        Event::MetricReadingRecorded {
            period,
            period_end,
            value,
            rag,
            target,
            note,
        } => {
            // The unit is the metric's; without a definition, the value's own kind.
            let (value, kind) = number(*value);
            let (target, _) = number(*target);
            tx.execute(
                "INSERT INTO ragtrail.metric_readings VALUES ($1, $2, $3, $4, $5, $6,
                    COALESCE((SELECT unit FROM ragtrail.metrics WHERE instance = $1 AND id = $3), $7),
                    $8, $9, $10, $11, $12)",
                &[&instance, &e.id, &e.stream, period, period_end, &value, &kind, &target, &rag.map(|r| r.to_string()), note, &e.effective, &p],
            )
            .await?;
        }
        Event::TargetDateRevised { target_date } => {
            tx.execute(
                "INSERT INTO ragtrail.target_date_revisions VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                &[&instance, &e.id, &e.stream, target_date, &e.effective, &p, &e.actor, &e.reason],
            )
            .await?;
        }
        Event::Corrected {
            target,
            replacement,
        } => {
            correct(tx, instance, e, *target, replacement.as_deref()).await?;
        }
        _ => {}
    }
    Ok(())
}

/// A correction, as ragtrail applies it: the target's values replaced in
/// place (stamped with the correction), or the target withdrawn.
async fn correct(
    tx: &Transaction<'_>,
    instance: &str,
    e: &Envelope,
    target: Uuid,
    replacement: Option<&Event>,
) -> Result<(), SinkError> {
    let p = e.position as i64;
    match replacement {
        Some(Event::RagChanged { dimension, rag }) => {
            tx.execute(
                "UPDATE ragtrail.rag_changes SET dimension = $3, rag = $4, set_position = $5, actor = $6, recorded_at = $7, reason = $8, corrected_by = $9, withdrawn = false
                 WHERE instance = $1 AND event = $2",
                &[&instance, &target, &dimension.to_string(), &rag.to_string(), &p, &e.actor, &e.recorded_at, &e.reason, &e.id],
            )
            .await?;
        }
        Some(Event::MetricReadingRecorded {
            period,
            period_end,
            value,
            rag,
            target: t,
            note,
        }) => {
            let (value, unit) = number(*value);
            let (t, _) = number(*t);
            tx.execute(
                "UPDATE ragtrail.metric_readings SET period = $3, period_end = $4, value = $5, unit = $6, target = $7, rag = $8, note = $9 WHERE instance = $1 AND event = $2",
                &[&instance, &target, period, period_end, &value, &unit, &t, &rag.map(|r| r.to_string()), note],
            )
            .await?;
        }
        Some(Event::TargetDateRevised { target_date }) => {
            tx.execute(
                "UPDATE ragtrail.target_date_revisions SET target_date = $3, actor = $4, reason = $5 WHERE instance = $1 AND event = $2",
                &[&instance, &target, target_date, &e.actor, &e.reason],
            )
            .await?;
        }
        None => {
            tx.execute(
                "UPDATE ragtrail.rag_changes SET withdrawn = true, corrected_by = $3 WHERE instance = $1 AND event = $2",
                &[&instance, &target, &e.id],
            )
            .await?;
            for table in ["metric_readings", "target_date_revisions"] {
                tx.execute(
                    &format!("DELETE FROM ragtrail.{table} WHERE instance = $1 AND event = $2"),
                    &[&instance, &target],
                )
                .await?;
            }
        }
        Some(_) => {}
    }
    Ok(())
}

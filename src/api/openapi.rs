//! The OpenAPI 3 document of the API, generated from the handlers' annotations
//! and the types they serialize: `GET /api/v1/openapi.json`.

use super::types::*;
use super::{append, audit, erasures, log, tokens, views};
use crate::seal::{SealCheck, SealResult};
use crate::state::AppState;
use crate::wire::{AppendBody, BatchBody, EnvelopeView};
use axum::extract::State;
use axum::Json;
use ragtrail_events::{
    Closure, Dimension, Direction, Event, Grade, Head, ItemKind, MilestoneState, NoteKind, Phase,
    PlannedPhase, Priority, Rag, Receipt, Section, Unit,
};
use ragtrail_projections::compare::*;
use ragtrail_projections::history::HistoryEntry;
use ragtrail_projections::movement::{Change, Movement};
use ragtrail_projections::rating::Rating;
use ragtrail_projections::trend::*;
use ragtrail_projections::view::*;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "ragtrail",
        description = "An event-sourced audit trail for children's services improvement programmes. \
            Writes need a writer token; reads need any token unless the server runs with --public-read. \
            Errors are application/problem+json."
    ),
    paths(
        append::one, append::batch, log::page, log::live,
        views::board, views::compare, views::slippage, views::metric_trend, views::item_trend, views::counts,
        views::history, views::boards,
        audit::seal, audit::verify_seal, audit::verify, audit::digest, audit::key, audit::health,
        tokens::create, tokens::list, tokens::revoke, erasures::erase
    ),
    components(schemas(
        AppendBody, BatchBody, BatchReceipts, EnvelopeView, EventsPage, BoardPage, ItemTrend, ProgrammeCounts,
        ItemHistory, BoardEntry, BoardsList, Health, VerifyReport, PublicKey, SealResult, SealCheck,
        TokenRequest, TokenCreated, TokenList, Problem, crate::signing::SignedDigest,
        erasures::ErasureRequest, erasures::TextOrVariants, erasures::ErasureFound, erasures::ErasureDone,
        ragtrail_events::erase::Found, ragtrail_events::event::ErasedEvent,
        crate::auth::Identity, crate::auth::Role,
        Event, PlannedPhase, Rag, Dimension, Phase, ItemKind, Section, MilestoneState, Unit,
        Direction, Grade, Priority, Closure, NoteKind, Receipt, Head,
        Board, ProgrammeView, BoardMeeting, SealView, JudgementView, ItemView, MilestoneView, Finance,
        MetricView, ReadingView, ConcernView, Stamp, Rating, WithinSlippage, ErasureView,
        ragtrail_projections::slippage::Slippage, ragtrail_projections::slippage::Slip,
        TextChange, PlanChange, RagDefinition, SourceView, ItemLink, NoteView, Attribution,
        Comparison, ItemMovement, Movement, Change, MetricDelta, MetricChange, DateChange,
        MetricTrend, RagAtBoard, CountsAtBoard, HistoryEntry
    )),
    modifiers(&BearerAuth),
    security(("bearer" = [])),
    tags(
        (name = "log", description = "Append events; read and tail the log"),
        (name = "views", description = "The board as at a date, movement, trends, history"),
        (name = "audit", description = "Verification, signed digests, board seals"),
        (name = "tokens", description = "Access tokens (admin)")
    )
)]
pub struct ApiDoc;

/// `GET /api/v1/openapi.json` (no token needed: it describes, it does not
/// disclose): the generated document, made whole by [`super::contract`].
pub async fn document(State(state): State<AppState>) -> Json<serde_json::Value> {
    let generated = serde_json::to_value(ApiDoc::openapi()).unwrap_or_default();
    Json(super::contract::truthful(generated, state.public_read))
}

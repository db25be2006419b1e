//! A programme as at a date: its registration, board meetings (with their
//! seals), inspection judgements, roles, and the risks and issues raised
//! against it rather than an item.

use crate::concern;
use crate::trail::{Slot, Stream, Trail, Viewpoint};
use crate::view::BoardQuery;
use crate::view::{
    BoardEntry, BoardMeeting, JudgementView, ProgrammeView, RagDefinition, SealView, SourceView,
};
use chrono::{DateTime, NaiveDate, Utc};
use ragtrail_events::Event;
use uuid::Uuid;

/// A programme's own facts as at the query.
pub fn at(trail: &Trail, id: Uuid, q: &BoardQuery) -> Option<ProgrammeView> {
    view(trail, id, trail.at(q.as_at, q.known_at))
}

pub(crate) fn view(trail: &Trail, id: Uuid, at: Viewpoint) -> Option<ProgrammeView> {
    let s = trail.stream(id)?;
    let (f, _) = trail.latest(s, Slot::Programme, at)?;
    let Some(Event::ProgrammeRegistered {
        name,
        authority,
        sponsor,
    }) = f.event()
    else {
        return None;
    };
    let boards = trail
        .all(s, Slot::Board, at)
        .filter_map(|h| match h.value.event() {
            Some(Event::BoardMeetingHeld { board, date }) => {
                let event = trail.event_id(h.position)?;
                Some(BoardMeeting {
                    event,
                    board: board.clone(),
                    date: *date,
                    seal: seal_of(trail, s, event, at),
                })
            }
            _ => None,
        })
        .collect();
    let judgements = trail
        .events(s, Slot::Judgement, at)
        .filter_map(|e| match e {
            Event::JudgementRecorded {
                inspection,
                area,
                grade,
                date,
            } => Some(JudgementView {
                inspection: inspection.clone(),
                area: area.clone(),
                grade: *grade,
                date: *date,
            }),
            _ => None,
        })
        .collect();
    let (risks, issues) = concern::of(trail, id, at);
    Some(ProgrammeView {
        id,
        name: name.clone(),
        authority: authority.clone(),
        sponsor: sponsor.clone(),
        boards,
        judgements,
        roles: trail.roles(s, at),
        risks,
        issues,
        notes: trail.notes(s, at),
        rag_definitions: rag_definitions(trail, s, at),
        source: trail
            .latest(s, Slot::Source, at)
            .and_then(|(f, set)| match f.event() {
                Some(Event::SourceRecorded {
                    title,
                    date,
                    author,
                    sha256,
                }) => Some(SourceView {
                    title: title.clone(),
                    date: *date,
                    author: author.clone(),
                    sha256: sha256.clone(),
                    set,
                }),
                _ => None,
            }),
    })
}

/// A programme's own RAG definitions at `at`: the latest given for each RAG, in RAG order.
fn rag_definitions(trail: &Trail, s: &Stream, at: Viewpoint) -> Vec<RagDefinition> {
    type Key = (Option<ragtrail_events::Dimension>, usize);
    let mut by_rag: std::collections::BTreeMap<Key, RagDefinition> = Default::default();
    for e in trail.events(s, Slot::RagDefinition, at) {
        if let Event::RagDefined {
            dimension,
            rag,
            label,
            meaning,
        } = e
        {
            let order = ragtrail_events::Rag::ALL
                .iter()
                .position(|r| r == rag)
                .unwrap_or(usize::MAX);
            by_rag.insert(
                (*dimension, order),
                RagDefinition {
                    dimension: *dimension,
                    rag: *rag,
                    label: label.clone(),
                    meaning: meaning.clone(),
                },
            );
        }
    }
    by_rag.into_values().collect()
}

/// The latest seal of a board meeting, as known at `at`.
fn seal_of(trail: &Trail, s: &Stream, board_event: Uuid, at: Viewpoint) -> Option<SealView> {
    let all = trail.all(
        s,
        Slot::Seal,
        Viewpoint {
            as_at: NaiveDate::MAX,
            ..at
        },
    );
    all.filter_map(|h| match h.value.event() {
        Some(Event::BoardSealed {
            board,
            as_at,
            snapshot,
            position,
            head,
        }) if *board == board_event => Some(SealView {
            as_at: *as_at,
            snapshot: snapshot.clone(),
            position: *position,
            head: head.clone(),
            set: trail.stamp(&h),
        }),
        _ => None,
    })
    .max_by_key(|s| s.set.position)
}

/// The programme's last board meeting before `at`.
pub(crate) fn previous_board(trail: &Trail, programme: Uuid, at: Viewpoint) -> Option<NaiveDate> {
    board_meetings(trail, programme, at.upto)
        .map(|(date, _)| date)
        .filter(|date| *date < at.as_at)
        .max()
}

/// A board meeting's date and the board's name.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct BoardDate {
    pub(crate) date: NaiveDate,
    pub(crate) board: String,
}

/// The board meetings of a programme, by date.
pub(crate) fn board_dates(
    trail: &Trail,
    programme: Uuid,
    known_at: Option<DateTime<Utc>>,
) -> Vec<BoardDate> {
    let mut out: Vec<BoardDate> =
        board_meetings(trail, programme, trail.at(NaiveDate::MAX, known_at).upto)
            .map(|(date, board)| BoardDate {
                date,
                board: board.to_string(),
            })
            .collect();
    out.sort();
    out
}

/// A programme's board meetings (date, board name) known up to log
/// position `upto`, in no particular order.
pub(crate) fn board_meetings(
    trail: &Trail,
    programme: Uuid,
    upto: u64,
) -> impl Iterator<Item = (NaiveDate, &str)> + '_ {
    let at = Viewpoint {
        as_at: NaiveDate::MAX,
        upto,
    };
    trail
        .stream(programme)
        .into_iter()
        .flat_map(move |s| trail.all(s, Slot::Board, at))
        .filter_map(|h| match h.value.event() {
            Some(Event::BoardMeetingHeld { board, date }) => Some((*date, board.as_str())),
            _ => None,
        })
}

/// Every board meeting of every programme as known at `known_at`, newest
/// first, each with its seal if sealed.
pub fn meetings(trail: &Trail, known_at: Option<DateTime<Utc>>) -> Vec<BoardEntry> {
    let at = trail.at(NaiveDate::MAX, known_at);
    let mut out: Vec<BoardEntry> = trail
        .programme_ids()
        .filter_map(|p| view(trail, p, at))
        .flat_map(|p| {
            p.boards.into_iter().map(move |b| BoardEntry {
                id: b.event,
                programme: p.id,
                programme_name: p.name.clone(),
                board: b.board,
                date: b.date,
                seal: b.seal,
            })
        })
        .collect();
    out.sort_by_key(|b| std::cmp::Reverse(b.date));
    out
}

/// The board meeting with this id (of its `BoardMeetingHeld` event), as known now.
pub fn meeting(trail: &Trail, id: uuid::Uuid) -> Option<BoardEntry> {
    meetings(trail, None).into_iter().find(|m| m.id == id)
}

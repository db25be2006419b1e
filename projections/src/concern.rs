//! A risk or an issue as at a date: raised, updated, closed, in order.

use crate::trail::{Slot, Trail, Viewpoint};
use crate::view::BoardQuery;
use crate::view::ConcernView;
use ragtrail_events::{Event, Rag};
use uuid::Uuid;

/// A risk or issue as at the query, and whether it is a risk.
pub fn at(trail: &Trail, id: Uuid, q: &BoardQuery) -> Option<(ConcernView, bool)> {
    view(trail, id, trail.at(q.as_at, q.known_at))
}

pub(crate) fn view(trail: &Trail, id: Uuid, at: Viewpoint) -> Option<(ConcernView, bool)> {
    let s = trail.stream(id)?;
    let mut view: Option<(ConcernView, bool)> = None;
    for h in trail.all(s, Slot::Concern, at) {
        let Some(e) = h.value.event() else { continue };
        let opened = |item: &Option<Uuid>,
                      reference: &String,
                      description: &String,
                      owner: &Option<String>,
                      action: &Option<String>,
                      rag: Option<Rag>| ConcernView {
            id,
            item: *item,
            reference: reference.clone(),
            description: description.clone(),
            owner: owner.clone(),
            action: action.clone(),
            rag,
            open: true,
            raised: h.effective,
            closed_on: None,
            note: None,
            likelihood: None,
            impact: None,
            score: None,
        };
        match (e, view.as_mut()) {
            (
                Event::RiskRaised {
                    item,
                    reference,
                    description,
                    owner,
                    mitigation,
                    rag,
                    ..
                },
                _,
            ) => {
                let v = opened(item, reference, description, owner, mitigation, *rag);
                view = Some((v, true));
            }
            (
                Event::IssueEscalated {
                    item,
                    reference,
                    description,
                    owner,
                    action,
                    ..
                },
                _,
            ) => {
                let v = opened(item, reference, description, owner, action, None);
                view = Some((v, false));
            }
            (
                Event::RiskUpdated {
                    description,
                    owner,
                    mitigation,
                    rag,
                },
                Some((v, _)),
            ) => {
                if let Some(d) = description {
                    v.description = d.clone();
                }
                if owner.is_some() {
                    v.owner = owner.clone();
                }
                if mitigation.is_some() {
                    v.action = mitigation.clone();
                }
                if rag.is_some() {
                    v.rag = *rag;
                }
            }
            (
                Event::RiskScored {
                    likelihood,
                    impact,
                    score,
                },
                Some((v, _)),
            ) => {
                v.likelihood = Some(*likelihood);
                v.impact = Some(*impact);
                v.score = *score;
            }
            (Event::RiskClosed { note } | Event::IssueResolved { note }, Some((v, _))) => {
                v.open = false;
                v.closed_on = Some(h.effective);
                v.note = note.clone();
            }
            _ => {}
        }
    }
    view
}

/// The risks and issues raised against an item (or a programme, for those
/// raised against no item), at `at`.
pub(crate) fn of(
    trail: &Trail,
    owner: Uuid,
    at: Viewpoint,
) -> (Vec<ConcernView>, Vec<ConcernView>) {
    let (mut risks, mut issues) = (Vec::new(), Vec::new());
    for c in trail.concerns.get(&owner).into_iter().flatten() {
        match view(trail, *c, at) {
            Some((view, true)) => risks.push(view),
            Some((view, false)) => issues.push(view),
            None => {}
        }
    }
    (risks, issues)
}

//! Who may do what: the one place where tenant, role and ownership are checked. Every
//! service function asks here before it reads or writes; nothing else decides access.
//!
//! **Invariant:** a resource of another tenant, or a case a panelist may not (yet) see,
//! answers exactly like one that does not exist (`NotFound`), so ids leak nothing.

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use super::error::{Error, Result};
use crate::domain::{CaseStatus, PostStatus, Role};
use crate::store::entities::{case, post};

/// The person behind a request.
#[derive(Clone, Debug)]
pub enum Actor {
    /// A resident on a panel.
    Panelist(PanelistActor),
    /// A member of municipal staff.
    Staff(StaffActor),
}

/// A logged-in panelist.
#[derive(Clone, Debug)]
pub struct PanelistActor {
    /// Panelist id.
    pub id: i64,
    /// Their panel.
    pub panel_id: i64,
    /// Their panel's municipality.
    pub municipality_id: i64,
    /// Name shown next to their posts.
    pub pseudonym: String,
    /// Until when they may not write, if suspended.
    pub suspended_until: Option<DateTime<Utc>>,
    /// Why, as the moderator wrote it.
    pub suspended_reason: Option<String>,
}

/// One role of a staff member.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct StaffRole {
    /// Municipality id.
    #[serde(skip)]
    pub municipality_id: i64,
    /// Municipality slug.
    pub municipality: String,
    /// The role there.
    pub role: Role,
}

/// A logged-in staff member.
#[derive(Clone, Debug)]
pub struct StaffActor {
    /// Staff id.
    pub id: i64,
    /// E-mail address.
    pub email: String,
    /// Display name.
    pub name: String,
    /// Roles per municipality.
    pub roles: Vec<StaffRole>,
}

impl StaffActor {
    /// Whether this person works for the municipality at all.
    pub fn is_member(&self, municipality_id: i64) -> bool {
        self.roles
            .iter()
            .any(|r| r.municipality_id == municipality_id)
    }

    /// Whether this person holds `role` in the municipality (admins hold every role).
    pub fn has_role(&self, municipality_id: i64, role: Role) -> bool {
        self.roles.iter().any(|r| {
            r.municipality_id == municipality_id && (r.role == role || r.role == Role::Admin)
        })
    }

    /// Municipalities this person works for.
    pub fn municipality_ids(&self) -> Vec<i64> {
        let mut ids: Vec<i64> = self.roles.iter().map(|r| r.municipality_id).collect();
        ids.sort_unstable();
        ids.dedup();
        ids
    }
}

impl Actor {
    /// Key under which this actor's idempotency records and rate limits are kept.
    pub fn scope(&self) -> String {
        match self {
            Actor::Panelist(p) => format!("panelist:{}", p.id),
            Actor::Staff(s) => format!("staff:{}", s.id),
        }
    }

    /// The panelist, or a `forbidden` error for staff.
    pub fn panelist(&self) -> Result<&PanelistActor> {
        match self {
            Actor::Panelist(p) => Ok(p),
            Actor::Staff(_) => Err(Error::forbidden(
                "panelists_only",
                "Alleen panelleden kunnen dit doen.",
            )),
        }
    }

    /// `(kind, id)` for audit entries.
    pub fn audit_identity(&self) -> (&'static str, i64) {
        match self {
            Actor::Panelist(p) => ("panelist", p.id),
            Actor::Staff(s) => ("staff", s.id),
        }
    }
}

/// Whether the actor may see the case at all. Panelists see cases put before their panel
/// once opened, and of a case with a draw only those holding a seat in it (`seat` is
/// `None` without a draw); staff see every case of their municipalities.
pub fn can_see_case(
    actor: &Actor,
    case: &case::Model,
    case_panels: &[i64],
    seat: Option<bool>,
) -> bool {
    match actor {
        Actor::Panelist(p) => {
            p.municipality_id == case.municipality_id
                && case_panels.contains(&p.panel_id)
                && seat != Some(false)
                && CaseStatus::parse(&case.status).is_some_and(CaseStatus::visible_to_panelists)
        }
        Actor::Staff(s) => s.is_member(case.municipality_id),
    }
}

/// Fails with `case_not_found` unless the actor may see the case.
pub fn require_case_visible(
    actor: &Actor,
    case: &case::Model,
    case_panels: &[i64],
    seat: Option<bool>,
) -> Result<()> {
    if can_see_case(actor, case, case_panels, seat) {
        Ok(())
    } else {
        Err(Error::not_found("case_not_found"))
    }
}

/// Returns the staff member if they hold `role` in the municipality. Outsiders (staff
/// of other municipalities, their panelists) get `not_found` with the code `missing`:
/// the thing asked for does not exist for them. The municipality's own staff with
/// another role and its own panelists get `forbidden`.
pub fn require_role<'a>(
    actor: &'a Actor,
    municipality_id: i64,
    role: Role,
    missing: &'static str,
) -> Result<&'a StaffActor> {
    let forbidden = || Error::forbidden("forbidden", format!("Hiervoor is de rol '{role}' nodig."));
    match actor {
        Actor::Staff(s) if s.has_role(municipality_id, role) => Ok(s),
        Actor::Staff(s) if s.is_member(municipality_id) => Err(forbidden()),
        Actor::Panelist(p) if p.municipality_id == municipality_id => Err(forbidden()),
        Actor::Staff(_) | Actor::Panelist(_) => Err(Error::not_found(missing)),
    }
}

/// [`require_role`] for a case or something in it. A panelist who may not see the case
/// (another panel's, or one not open yet) gets `not_found` with `missing` as well, so a
/// staff route tells them no more about it than about a case that does not exist;
/// `case_panels` is only consulted for panelists.
pub fn require_case_role<'a>(
    actor: &'a Actor,
    case: &case::Model,
    case_panels: &[i64],
    seat: Option<bool>,
    role: Role,
    missing: &'static str,
) -> Result<&'a StaffActor> {
    if matches!(actor, Actor::Panelist(_)) && !can_see_case(actor, case, case_panels, seat) {
        return Err(Error::not_found(missing));
    }
    require_role(actor, case.municipality_id, role, missing)
}

/// Who reads a post, as far as its text is concerned. Staff here means staff of the
/// case's municipality (anyone else cannot see the case at all).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reader {
    /// Staff of the case's municipality.
    Staff,
    /// A panelist, by id.
    Panelist(i64),
}

impl Reader {
    /// The reader an actor is.
    pub fn of(actor: &Actor) -> Reader {
        match actor {
            Actor::Staff(_) => Reader::Staff,
            Actor::Panelist(p) => Reader::Panelist(p.id),
        }
    }
}

/// **The** rule for a post's text (and verdict), called by every door that shows one:
/// threads, fragments, live frames and resumes, exports and analysis. Visible posts are
/// for everyone; a withdrawn post only for its author; a held, hidden or rejected post
/// for its author and the municipality's staff. A status this code does not know is
/// treated as hidden.
pub fn may_read_post_text(reader: Reader, status: &str, author_id: i64) -> bool {
    let status = PostStatus::parse(status).unwrap_or(PostStatus::Hidden);
    let is_author = reader == Reader::Panelist(author_id);
    match status {
        PostStatus::Visible => true,
        PostStatus::Withdrawn => is_author,
        PostStatus::Pending | PostStatus::Hidden | PostStatus::Rejected => {
            is_author || reader == Reader::Staff
        }
    }
}

/// Whether the actor may read the text of a post in a case they can see
/// ([`may_read_post_text`] for this actor).
pub fn can_read_post_body(actor: &Actor, post: &post::Model) -> bool {
    may_read_post_text(Reader::of(actor), &post.status, post.panelist_id)
}

/// Whether a panelist sees the verdicts of others' reactions in a case: not while the
/// case is open and hides its tally until the panelist's own verdict and they gave none,
/// since the verdict badges would add up to the tally.
pub fn sees_verdicts(case: &case::Model, has_reacted: bool) -> bool {
    has_reacted || !case.hide_tallies_until_reacted || case.status != "open"
}

/// Whether every reader of the case may read the post's text (it is visible).
pub fn post_open_to_all(post: &post::Model) -> bool {
    post.status == PostStatus::Visible.as_str()
}

/// Fails unless the panelist may write now (not suspended).
pub fn require_not_suspended(p: &PanelistActor, now: DateTime<Utc>) -> Result<()> {
    match p.suspended_until {
        Some(until) if until > now => Err(Error::forbidden(
            "suspended",
            format!(
                "U kunt tijdelijk niet reageren, tot {}.{}",
                until.format("%d-%m-%Y %H:%M"),
                p.suspended_reason
                    .as_deref()
                    .map(|r| format!(" Reden: {r}"))
                    .unwrap_or_default()
            ),
        )),
        _ => Ok(()),
    }
}

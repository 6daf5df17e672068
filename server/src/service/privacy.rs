//! A resident's rights over their data (AVG/GDPR): leaving the panel (articles 17 and
//! 21: code, sessions, profile, contact and per-case names erased; posts kept as
//! "oud-panellid" or removed) at their own request or on a written request carried out
//! by staff, and the download of everything kept about them (articles 15 and 20).
//! Leaving is audited without personal data: which panel, what became of the posts and
//! how many, never who.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::error::{Error, Result};
use super::policy::Actor;
use super::posts::post_event;
use super::{AuditContext, Person, Service};
use crate::domain::{PostStatus, PostsOnLeaving, Role};
use crate::store::{audit, cases, events, invitations, names, people, privacy, sessions};

/// A panelist's request to leave the panel.
#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(examples(json!({"posts": "behouden", "confirm": true})))]
pub struct LeaveInput {
    /// What becomes of their posts: `behouden` (kept, shown as "oud-panellid") or
    /// `verwijderen` (removed; a placeholder keeps the thread's shape).
    #[schema(value_type = PostsOnLeaving)]
    pub posts: String,
    /// That they understand it cannot be undone; must be `true`.
    pub confirm: bool,
}

/// A written request to leave the panel, carried out by staff.
#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(examples(json!({"posts": "verwijderen"})))]
pub struct LeaveOnRequestInput {
    /// What the resident asked for their posts: `behouden` or `verwijderen`.
    #[schema(value_type = PostsOnLeaving)]
    pub posts: String,
}

/// What leaving did.
#[derive(Clone, Debug, Serialize, ToSchema, PartialEq, Eq)]
pub struct LeaveOutcome {
    /// What became of the posts.
    pub posts: PostsOnLeaving,
    /// How many posts were kept (anonymised) or removed.
    pub post_count: u64,
}

/// Everything Beraad keeps about one panelist, as they may download it.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct OwnData {
    /// When this overview was made.
    pub generated_at: DateTime<Utc>,
    /// Municipality.
    pub municipality: String,
    /// Panel.
    pub panel: String,
    /// The panelist's own row: name on the panel, profile and its consent, logins.
    pub profile: OwnProfile,
    /// The invitations (letters) that carried their code; never the code itself.
    pub invitations: Vec<OwnInvitation>,
    /// The name they appear under in each case they wrote in.
    pub case_names: Vec<OwnCaseName>,
    /// Every post (reactions with their verdict, and replies), with every revision.
    pub posts: Vec<OwnPost>,
    /// Their weighings of others' posts.
    pub weighings: Vec<OwnWeighing>,
    /// The flags (meldingen) they made.
    pub flags: Vec<OwnFlag>,
    /// Moderators' decisions about them or their posts.
    pub moderation: Vec<OwnModeration>,
    /// When they accepted the house rules and gave or withdrew consent for the profile.
    pub consent_history: Vec<OwnConsentEvent>,
    /// Their sessions now open (the session key itself is kept only as a digest).
    pub sessions: Vec<OwnSession>,
    /// The panel draws they were part of.
    pub draws: Vec<OwnDrawSeat>,
    /// Audit log entries about them or made by them.
    pub audit: Vec<OwnAuditEntry>,
    /// The e-mail address they gave for notifications and what they chose, if any.
    pub notification_contact: Option<OwnNotificationContact>,
    /// The notifications made for them: what, about which case, and what became of it.
    pub notifications: Vec<OwnNotification>,
}

/// The e-mail address for notifications, as the panelist gave it.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct OwnNotificationContact {
    /// The address.
    pub email: String,
    /// When they confirmed it through the link, if they did.
    pub confirmed_at: Option<DateTime<Utc>>,
    /// What they chose to receive (comma separated).
    pub kinds: String,
    /// At once or a daily digest.
    pub frequency: String,
    /// The language of the messages.
    pub language: String,
    /// When they gave it.
    pub created_at: DateTime<Utc>,
    /// When they last changed it.
    pub updated_at: DateTime<Utc>,
}

/// One notification made for the panelist.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct OwnNotification {
    /// What it is about.
    pub kind: String,
    /// The case, if any.
    pub case_id: Option<i64>,
    /// What became of it (waiting, sent, failed, bounced, dropped).
    pub status: String,
    /// When it was made.
    pub created_at: DateTime<Utc>,
    /// When it was sent, if it was.
    pub sent_at: Option<DateTime<Utc>>,
}

/// The panelist's own row.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct OwnProfile {
    /// Their name on the panel (shown to themselves; in each case they have another).
    pub pseudonym: String,
    /// Whether they agreed that the profile is used in the analysis.
    pub profile_consent: bool,
    /// Age band, if shared.
    pub age_band: Option<String>,
    /// District, if shared.
    pub district: Option<String>,
    /// Own experience with the Wmo, if shared.
    pub wmo_experience: Option<String>,
    /// When the row was made (the letter's batch).
    pub created_at: DateTime<Utc>,
    /// First login.
    pub first_login_at: Option<DateTime<Utc>>,
    /// Last login.
    pub last_login_at: Option<DateTime<Utc>>,
    /// Until when they may not write, if suspended.
    pub suspended_until: Option<DateTime<Utc>>,
    /// Why, as the moderator wrote it.
    pub suspended_reason: Option<String>,
    /// Whether a moderator reads their posts before others do.
    pub premoderated: bool,
}

/// One invitation.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct OwnInvitation {
    /// Its number (`2026-003-0142`).
    pub number: String,
    /// `active`, `revoked`, `replaced` or `left`.
    pub status: String,
    /// When it was made.
    pub created_at: DateTime<Utc>,
    /// When its code was first used.
    pub first_used_at: Option<DateTime<Utc>>,
    /// When it stopped working.
    pub ended_at: Option<DateTime<Utc>>,
}

/// A per-case name.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct OwnCaseName {
    /// Case id.
    pub case_id: i64,
    /// Case title.
    pub case_title: String,
    /// The name others read there.
    pub name: String,
}

/// One post with its history.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct OwnPost {
    /// Post id.
    pub id: i64,
    /// Case id.
    pub case_id: i64,
    /// Case title.
    pub case_title: String,
    /// The post it answers, for a reply.
    pub parent_id: Option<i64>,
    /// The verdict of a reaction.
    pub verdict: Option<String>,
    /// The text as it is now.
    pub body: String,
    /// State (`visible`, `pending`, `hidden`, `rejected`, `withdrawn`).
    pub status: PostStatus,
    /// Why a moderator hid or rejected it.
    pub moderation_reason: Option<String>,
    /// The moderator's note to them.
    pub moderation_note: Option<String>,
    /// Written.
    pub created_at: DateTime<Utc>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
    /// Every version, the first one first.
    pub revisions: Vec<OwnRevision>,
}

/// One version of a post.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct OwnRevision {
    /// 1 for the first version.
    pub revision: i32,
    /// Verdict of that version.
    pub verdict: Option<String>,
    /// Text of that version.
    pub body: String,
    /// When it was written.
    pub created_at: DateTime<Utc>,
}

/// One weighing.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct OwnWeighing {
    /// Case id.
    pub case_id: i64,
    /// The post weighed.
    pub post_id: i64,
    /// `agree`, `disagree` or `pass`.
    pub value: String,
    /// First given.
    pub created_at: DateTime<Utc>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
}

/// One flag.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct OwnFlag {
    /// Case id.
    pub case_id: i64,
    /// The post flagged.
    pub post_id: i64,
    /// Reason.
    pub reason: String,
    /// Their note.
    pub note: Option<String>,
    /// When.
    pub created_at: DateTime<Utc>,
    /// When a moderator dealt with it.
    pub resolved_at: Option<DateTime<Utc>>,
}

/// One moderator's decision about them or their post.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct OwnModeration {
    /// Case id.
    pub case_id: Option<i64>,
    /// Post id.
    pub post_id: Option<i64>,
    /// What was done.
    pub action: String,
    /// Reason code.
    pub reason: Option<String>,
    /// The moderator's note.
    pub note: Option<String>,
    /// When.
    pub created_at: DateTime<Utc>,
}

/// A moment of consent.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct OwnConsentEvent {
    /// `house_rules.accept`, `profile.update` (consent given) or `profile.erase`
    /// (consent withdrawn).
    pub action: String,
    /// When.
    pub at: DateTime<Utc>,
}

/// An open session.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct OwnSession {
    /// Started.
    pub created_at: DateTime<Utc>,
    /// Last used.
    pub last_seen_at: DateTime<Utc>,
    /// Ends.
    pub expires_at: DateTime<Utc>,
}

/// A place in a draw.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct OwnDrawSeat {
    /// Draw id.
    pub draw_id: i64,
    /// `seated`, `reserve` or `replaced`.
    pub status: String,
    /// 0 for the draw, 1… for a top-up.
    pub round: i32,
    /// When seated.
    pub seated_at: Option<DateTime<Utc>>,
}

/// An audit entry.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct OwnAuditEntry {
    /// What was done.
    pub action: String,
    /// On what.
    pub object_type: String,
    /// Who did it (`panelist`, `staff`, `operator`, `system`).
    pub actor_kind: String,
    /// The network address it came from.
    pub origin: Option<String>,
    /// When.
    pub created_at: DateTime<Utc>,
}

/// One entry of the replay list of erasures.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Erasure {
    /// The panelist who left.
    pub panelist_id: i64,
    /// When.
    pub left_at: DateTime<Utc>,
    /// What they chose for their posts.
    pub posts: PostsOnLeaving,
}

fn parse_choice(word: &str) -> Result<PostsOnLeaving> {
    PostsOnLeaving::parse(word).ok_or_else(|| {
        Error::invalid(
            "invalid_posts_choice",
            format!(
                "Kies wat er met uw berichten gebeurt: {}.",
                PostsOnLeaving::expected()
            ),
        )
    })
}

impl Service {
    /// The signed-in panelist leaves the panel. Needs `confirm: true`.
    pub async fn leave_panel(
        &self,
        actor: &Actor,
        input: LeaveInput,
        ctx: &AuditContext,
    ) -> Result<LeaveOutcome> {
        let p = actor.panelist()?;
        let choice = parse_choice(&input.posts)?;
        if !input.confirm {
            return Err(Error::invalid(
                "confirmation_required",
                "Bevestig dat u het panel wilt verlaten; dit kan niet ongedaan worden gemaakt.",
            ));
        }
        self.leave(
            p.municipality_id,
            p.id,
            choice,
            false,
            &ctx.without_panelist(),
        )
        .await
    }

    /// Staff carry out a resident's written request to leave, by invitation number
    /// (admins).
    pub async fn leave_panel_on_request(
        &self,
        actor: &Actor,
        municipality_slug: &str,
        number: &str,
        input: LeaveOnRequestInput,
        ctx: &AuditContext,
    ) -> Result<LeaveOutcome> {
        let m = self
            .municipality_with_role(actor, municipality_slug, Role::Admin)
            .await?;
        let choice = parse_choice(&input.posts)?;
        let number = number.trim();
        if !super::invitations::plausible_number(number) {
            return Err(super::invitations::invalid_number());
        }
        let i = invitations::invitation_by_number(self.store.db(), m.id, number)
            .await?
            .ok_or_else(super::invitations::invalid_number)?;
        self.leave(m.id, i.panelist_id, choice, true, ctx).await
    }

    async fn leave(
        &self,
        municipality_id: i64,
        panelist_id: i64,
        choice: PostsOnLeaving,
        on_request: bool,
        ctx: &AuditContext,
    ) -> Result<LeaveOutcome> {
        let now = self.now();
        let tx = self.store.begin_write().await?;
        let person = people::panelist_by_id(&*tx, panelist_id)
            .await?
            .ok_or_else(Error::unauthenticated)?;
        if person.left_at.is_some() {
            return Err(Error::conflict(
                "already_left",
                "Deze deelnemer heeft het panel al verlaten.",
            ));
        }
        let panel = people::panel_by_id(&*tx, person.panel_id)
            .await?
            .ok_or_else(|| Error::Internal("panel of a panelist missing".into()))?;
        let list = privacy::posts_of(&*tx, panelist_id).await?;
        let mut rings: HashMap<i64, i64> = HashMap::new();
        let mut moderation_rings = Vec::new();
        let mut count = 0u64;
        for post in &list {
            let withdrawn = post.status == PostStatus::Withdrawn.as_str();
            match choice {
                PostsOnLeaving::Remove => {
                    let saved = privacy::remove_post(&*tx, post, now).await?;
                    if !withdrawn {
                        count += 1;
                        let e = events::append(
                            &*tx,
                            post.case_id,
                            "post.withdrawn",
                            Some(saved.id),
                            &post_event(&saved),
                            now,
                        )
                        .await?;
                        rings.insert(post.case_id, e.seq);
                        moderation_rings.push(post.id);
                    }
                }
                PostsOnLeaving::Keep => {
                    // A withdrawn post was theirs alone to read; nobody can now.
                    if withdrawn {
                        privacy::remove_post(&*tx, post, now).await?;
                    } else {
                        count += 1;
                    }
                }
            }
        }
        names::forget(&*tx, panelist_id).await?;
        privacy::erase_panelist(
            &*tx,
            &person,
            &super::invitations::void_code_hash(),
            choice.as_str(),
            now,
        )
        .await?;
        privacy::end_invitations_of(&*tx, panelist_id, now).await?;
        sessions::delete_for_panelist(&*tx, panelist_id).await?;
        // The e-mail address goes, and with it every message not yet sent.
        crate::store::notifications::delete_contact(&*tx, panelist_id).await?;
        crate::store::notifications::drop_pending_of(&*tx, panelist_id).await?;
        privacy::erase_flag_notes(&*tx, panelist_id).await?;
        privacy::drop_stored_answers(&*tx, panelist_id).await?;
        // Counts, not content, and not who: the panel, the choice, how many posts.
        audit::append(
            &*tx,
            ctx.entry(
                Some(municipality_id),
                if on_request {
                    "panelist.leave_on_request"
                } else {
                    "panelist.leave"
                },
                "panel",
                panel.slug.clone(),
                serde_json::json!({"posts": choice.as_str(), "post_count": count}),
            ),
            now,
        )
        .await?;
        tx.commit().await?;
        for (case_id, seq) in rings {
            self.ring(case_id, seq);
        }
        for post_id in moderation_rings {
            self.ring_moderation(municipality_id, post_id);
        }
        self.ring_person(Person::Panelist(panelist_id));
        tracing::info!(
            municipality.id = municipality_id,
            posts = choice.as_str(),
            post_count = count,
            "a panelist left the panel"
        );
        Ok(LeaveOutcome {
            posts: choice,
            post_count: count,
        })
    }

    /// The replay list of erasures: every panelist who left, with when and what they chose
    /// for their posts (ids only). The operator keeps it apart from the database backups.
    pub async fn erasures(&self) -> Result<Vec<Erasure>> {
        Ok(privacy::left_panelists(self.store.db())
            .await?
            .into_iter()
            .filter_map(|p| {
                Some(Erasure {
                    panelist_id: p.id,
                    left_at: p.left_at?,
                    posts: PostsOnLeaving::parse(p.left_posts.as_deref()?)?,
                })
            })
            .collect())
    }

    /// After a restore from a backup: applies again every erasure of the list that the
    /// restored database does not hold yet; returns how many. Audited like leaving, by
    /// the operator, with `replay: true`.
    pub async fn replay_erasures(&self, list: &[Erasure], ctx: &AuditContext) -> Result<usize> {
        let mut applied = 0;
        for e in list {
            let Some(person) = people::panelist_by_id(self.store.db(), e.panelist_id).await? else {
                continue;
            };
            if person.left_at.is_some() {
                continue;
            }
            let Some(panel) = people::panel_by_id(self.store.db(), person.panel_id).await? else {
                continue;
            };
            self.leave(panel.municipality_id, person.id, e.posts, true, ctx)
                .await?;
            applied += 1;
        }
        Ok(applied)
    }

    /// Everything kept about the signed-in panelist.
    pub async fn own_data(&self, actor: &Actor) -> Result<OwnData> {
        let p = actor.panelist()?;
        self.data_of_panelist(p.id).await
    }

    async fn data_of_panelist(&self, panelist_id: i64) -> Result<OwnData> {
        let db = self.store.db();
        let person = people::panelist_by_id(db, panelist_id)
            .await?
            .ok_or_else(Error::unauthenticated)?;
        let panel = people::panel_by_id(db, person.panel_id)
            .await?
            .ok_or_else(|| Error::Internal("panel of a panelist missing".into()))?;
        let municipality = people::municipality_by_id(db, panel.municipality_id)
            .await?
            .ok_or_else(|| Error::Internal("municipality of a panel missing".into()))?;
        let list = privacy::posts_of(db, panelist_id).await?;
        let ids: Vec<i64> = list.iter().map(|p| p.id).collect();
        let mut revisions: HashMap<i64, Vec<OwnRevision>> = HashMap::new();
        for r in privacy::revisions_of_posts(db, &ids).await? {
            revisions.entry(r.post_id).or_default().push(OwnRevision {
                revision: r.revision,
                verdict: r.verdict,
                body: r.body,
                created_at: r.created_at,
            });
        }
        let case_names = names::names_of(db, panelist_id).await?;
        let mut titles: HashMap<i64, String> = HashMap::new();
        for case_id in list
            .iter()
            .map(|p| p.case_id)
            .chain(case_names.iter().map(|n| n.case_id))
        {
            if let std::collections::hash_map::Entry::Vacant(slot) = titles.entry(case_id) {
                let title = cases::case_by_id(db, case_id)
                    .await?
                    .map(|c| c.title)
                    .unwrap_or_default();
                slot.insert(title);
            }
        }
        let title = |id: i64| titles.get(&id).cloned().unwrap_or_default();
        let audit_entries = privacy::audit_entries_of(db, panelist_id).await?;
        let mut consent_history: Vec<OwnConsentEvent> = audit_entries
            .iter()
            .filter(|a| a.action.starts_with("profile."))
            .map(|a| OwnConsentEvent {
                action: a.action.clone(),
                at: a.created_at,
            })
            .collect();
        if let Some(at) = person.house_rules_accepted_at {
            consent_history.push(OwnConsentEvent {
                action: "house_rules.accept".into(),
                at,
            });
        }
        consent_history.sort_by_key(|c| c.at);
        let notification_contact = crate::store::notifications::contact_of(db, panelist_id)
            .await?
            .map(|c| OwnNotificationContact {
                email: c.email,
                confirmed_at: c.confirmed_at,
                kinds: c.kinds,
                frequency: c.frequency,
                language: c.language,
                created_at: c.created_at,
                updated_at: c.updated_at,
            });
        let notifications = crate::store::notifications::outbox_of_panelist(db, panelist_id)
            .await?
            .into_iter()
            .map(|n| OwnNotification {
                kind: n.kind,
                case_id: n.case_id,
                status: n.status,
                created_at: n.created_at,
                sent_at: n.sent_at,
            })
            .collect();
        Ok(OwnData {
            notification_contact,
            notifications,
            generated_at: self.now(),
            municipality: municipality.name,
            panel: panel.name,
            invitations: privacy::invitations_of(db, panelist_id)
                .await?
                .into_iter()
                .map(|i| OwnInvitation {
                    number: i.number,
                    status: i.status,
                    created_at: i.created_at,
                    first_used_at: i.first_used_at,
                    ended_at: i.revoked_at,
                })
                .collect(),
            case_names: case_names
                .iter()
                .map(|n| OwnCaseName {
                    case_id: n.case_id,
                    case_title: title(n.case_id),
                    name: n.name.clone(),
                })
                .collect(),
            weighings: privacy::weighings_of(db, panelist_id)
                .await?
                .into_iter()
                .map(|w| OwnWeighing {
                    case_id: w.case_id,
                    post_id: w.post_id,
                    value: w.value,
                    created_at: w.created_at,
                    updated_at: w.updated_at,
                })
                .collect(),
            flags: privacy::flags_of(db, panelist_id)
                .await?
                .into_iter()
                .map(|f| OwnFlag {
                    case_id: f.case_id,
                    post_id: f.post_id,
                    reason: f.reason,
                    note: f.note,
                    created_at: f.created_at,
                    resolved_at: f.resolved_at,
                })
                .collect(),
            moderation: privacy::moderation_actions_about(db, panelist_id, &ids)
                .await?
                .into_iter()
                .map(|a| OwnModeration {
                    case_id: a.case_id,
                    post_id: a.post_id,
                    action: a.action,
                    reason: a.reason,
                    note: a.note,
                    created_at: a.created_at,
                })
                .collect(),
            sessions: privacy::sessions_of(db, panelist_id)
                .await?
                .into_iter()
                .map(|s| OwnSession {
                    created_at: s.created_at,
                    last_seen_at: s.last_seen_at,
                    expires_at: s.expires_at,
                })
                .collect(),
            draws: privacy::draw_seats_of(db, panelist_id)
                .await?
                .into_iter()
                .map(|d| OwnDrawSeat {
                    draw_id: d.draw_id,
                    status: d.status,
                    round: d.round,
                    seated_at: d.seated_at,
                })
                .collect(),
            audit: audit_entries
                .into_iter()
                .map(|a| OwnAuditEntry {
                    action: a.action,
                    object_type: a.object_type,
                    actor_kind: a.actor_kind,
                    origin: a.origin,
                    created_at: a.created_at,
                })
                .collect(),
            consent_history,
            posts: list
                .into_iter()
                .map(|p| OwnPost {
                    id: p.id,
                    case_id: p.case_id,
                    case_title: title(p.case_id),
                    parent_id: p.parent_id,
                    verdict: p.verdict,
                    status: PostStatus::parse(&p.status).unwrap_or(PostStatus::Hidden),
                    moderation_reason: p.status_reason,
                    moderation_note: p.status_note,
                    created_at: p.created_at,
                    updated_at: p.updated_at,
                    revisions: revisions.remove(&p.id).unwrap_or_default(),
                    body: p.body,
                })
                .collect(),
            profile: OwnProfile {
                pseudonym: person.pseudonym,
                profile_consent: person.profile_consent,
                age_band: person.age_band,
                district: person.district,
                wmo_experience: person.wmo_experience,
                created_at: person.created_at,
                first_login_at: person.first_login_at,
                last_login_at: person.last_login_at,
                suspended_until: person.suspended_until,
                suspended_reason: person.suspended_reason,
                premoderated: person.premoderated,
            },
        })
    }
}

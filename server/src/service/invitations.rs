//! Invitations as numbered records: batches of letters for a panel, the lost-code call
//! (revoke an invitation by its number, issue a new code to the same panelist), the
//! municipality's letter text, and the response figures per batch and panel with the
//! analysis's small-number suppression.
//!
//! A code exists in plain text only in the answer that issues it (the batch or the
//! replacement); afterwards only its SHA-256 digest is kept, so no code is ever shown
//! again. See `docs/invitations.md`.

use chrono::{DateTime, Datelike, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use super::error::{Error, Result};
use super::panels::Invitation;
use super::policy::{self, Actor};
use super::{AuditContext, Person, Service};
use crate::analysis::stats::{self, FunnelStep, MIN_GROUP_SIZE};
use crate::domain::Role;
use crate::domain::secrets::{format_invite_code, hash_invite_code, new_invite_code, new_token};
use crate::store::entities::{invitation, invitation_batch, municipality, panel};
use crate::store::invitations::{self as store, NewBatch, NewInvitation};
use crate::store::{audit, people, sessions};

/// Longest letter text, in characters.
pub const MAX_LETTER_TEXT: usize = 2400;

/// What a batch is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, serde::Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum BatchKind {
    /// Letters staff made for a panel.
    Letters,
    /// The one letter with a new code for someone whose code was lost or compromised.
    Replacement,
    /// The codes handed out before invitations had numbers.
    Existing,
}

impl crate::domain::ClosedSet for BatchKind {
    fn all() -> &'static [Self] {
        &[
            BatchKind::Letters,
            BatchKind::Replacement,
            BatchKind::Existing,
        ]
    }
}

impl BatchKind {
    fn as_str(self) -> &'static str {
        match self {
            BatchKind::Letters => "letters",
            BatchKind::Replacement => "replacement",
            BatchKind::Existing => "existing",
        }
    }

    fn parse(s: &str) -> BatchKind {
        match s {
            "replacement" => BatchKind::Replacement,
            "existing" => BatchKind::Existing,
            _ => BatchKind::Letters,
        }
    }
}

/// A batch's number as staff read it: `2026-003`.
pub fn batch_number(b: &invitation_batch::Model) -> String {
    format!("{}-{:03}", b.year, b.seq)
}

/// An invitation number: the batch's number and the letter's place in it
/// (`2026-003-0142`); digits and dashes only, so it can be read over the phone.
fn invitation_number(year: i32, seq: i32, place: usize) -> String {
    format!("{year}-{seq:03}-{place:04}")
}

/// Whether `s` looks like an invitation number (checked before any lookup).
pub fn plausible_number(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.len() == 3
        && parts[0].len() == 4
        && (3..=4).contains(&parts[1].len())
        && (4..=5).contains(&parts[2].len())
        && parts.iter().all(|p| p.bytes().all(|b| b.is_ascii_digit()))
}

/// A response funnel as published: every step with its count or its suppression.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ResponseFigures {
    /// `letters` (codes handed out), `used` (logged in at least once), `consented`
    /// (shared their profile), `reacted` (gave a verdict in some case), in this order.
    #[schema(value_type = Vec<Object>)]
    pub steps: Vec<FunnelStep>,
}

/// The people behind a funnel, before suppression: the shape a per-case figure
/// (drawn, reacted) fills too.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ResponseCounts {
    /// Letters sent (codes handed out).
    pub letters: u64,
    /// Codes used for a first login.
    pub used: u64,
    /// Profiles shared.
    pub consented: u64,
    /// Gave a verdict.
    pub reacted: u64,
}

impl ResponseCounts {
    /// The funnel with the analysis's suppression ([`stats::funnel`]).
    pub fn publish(self) -> ResponseFigures {
        ResponseFigures {
            steps: stats::funnel(
                ("letters", self.letters),
                &[
                    ("used", self.used),
                    ("consented", self.consented),
                    ("reacted", self.reacted),
                ],
                MIN_GROUP_SIZE,
            ),
        }
    }
}

/// A batch as staff see it: never its codes.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct BatchView {
    /// Batch id.
    pub id: i64,
    /// Its number (`2026-003`).
    pub number: String,
    /// What it is.
    pub kind: BatchKind,
    /// Panel slug.
    pub panel: String,
    /// Panel name.
    pub panel_name: String,
    /// Letters in it.
    pub size: i32,
    /// When it was made.
    pub created_at: DateTime<Utc>,
    /// Who made it (name), none from the command line.
    pub created_by: Option<String>,
    /// The response to its letters.
    pub figures: ResponseFigures,
}

/// One invitation as staff see it: its number and state, never its code.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct InvitationView {
    /// Invitation number.
    pub number: String,
    /// The batch's number.
    pub batch: String,
    /// `active`, `revoked` or `replaced`.
    pub status: String,
    /// The panelist's pseudonym.
    pub pseudonym: String,
    /// Panel slug.
    pub panel: String,
    /// When the code was first used to log in.
    pub first_used_at: Option<DateTime<Utc>>,
    /// When it was revoked or replaced.
    pub ended_at: Option<DateTime<Utc>>,
    /// The number it replaced, if any.
    pub replaces: Option<String>,
    /// The number that replaced it, if any.
    pub replaced_by: Option<String>,
}

/// A batch with its invitations (admins).
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct BatchDetail {
    /// The batch.
    pub batch: BatchView,
    /// Its invitations, by number.
    pub invitations: Vec<InvitationView>,
}

/// A batch just made, with its codes: the only moment they exist in plain text.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct IssuedBatch {
    /// Batch id.
    pub id: i64,
    /// Its number (`2026-003`).
    pub number: String,
    /// What it is.
    pub kind: BatchKind,
    /// Municipality slug.
    pub municipality_slug: String,
    /// The letters, with their codes.
    #[schema(value_type = Vec<Object>)]
    pub invitations: Vec<Invitation>,
    /// The municipality's letter text, none for the default.
    #[serde(skip)]
    pub letter_text: Option<String>,
}

/// Response figures of a municipality's panels and batches.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ResponseOverview {
    /// Per panel.
    pub panels: Vec<PanelResponse>,
    /// Per batch, newest first.
    pub batches: Vec<BatchView>,
}

/// The response of one panel: its panelists, whatever letter they came by.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct PanelResponse {
    /// Panel slug.
    pub panel: String,
    /// Panel name.
    pub panel_name: String,
    /// The funnel: letters counts the codes handed out (replacements included); the
    /// other steps count panelists.
    pub figures: ResponseFigures,
}

/// A municipality's letter as staff set it.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct LetterSettings {
    /// The text staff set, none while the default is used.
    pub text: Option<String>,
}

/// Where the letters send people: the login page at the server's public address
/// (`https://beraad.example.nl/`).
pub fn login_address(public_url: &str) -> String {
    format!("{}/", public_url.trim_end_matches('/'))
}

/// The link in a letter's QR code: the login page with the code in the fragment
/// (`https://beraad.example.nl/#code=ABCD-EFGH-JKLMN`). A browser never sends the
/// fragment to the server, so the code stays out of every access log; the login page's
/// script puts it in the code field.
pub fn login_link(public_url: &str, code: &str) -> String {
    format!("{}#code={code}", login_address(public_url))
}

pub(super) fn invalid_number() -> Error {
    Error::not_found("invitation_not_found")
}

/// The digest stored for a panelist whose code was revoked without a replacement:
/// random, so no code has it.
pub(super) fn void_code_hash() -> String {
    format!("void:{}", &new_token()[..40])
}

/// Who holds an invitation, what they did: the raw counts per panelist.
struct Holder {
    used: bool,
    consented: bool,
    reacted: bool,
}

impl Service {
    pub(super) async fn municipality_with_role(
        &self,
        actor: &Actor,
        slug: &str,
        role: Role,
    ) -> Result<municipality::Model> {
        let m = people::municipality_by_slug(self.store.db(), slug)
            .await?
            .ok_or_else(|| Error::not_found("municipality_not_found"))?;
        policy::require_role(actor, m.id, role, "municipality_not_found")?;
        Ok(m)
    }

    /// Makes a batch: a panelist with an active, numbered invitation per code, in one
    /// transaction, audited as `invites.create` (with the batch's number, never a code).
    pub(super) async fn issue_batch(
        &self,
        panel: &panel::Model,
        codes: &[String],
        created_by: Option<i64>,
        ctx: &AuditContext,
    ) -> Result<IssuedBatch> {
        let db = self.store.db();
        let m = people::municipality_by_id(db, panel.municipality_id)
            .await?
            .ok_or_else(|| Error::not_found("municipality_not_found"))?;
        let now = self.now();
        let year = now.year();
        let tx = self.store.begin_write().await?;
        let seq = store::next_batch_seq(&*tx, m.id, year).await?;
        let batch = store::insert_batch(
            &*tx,
            NewBatch {
                municipality_id: m.id,
                panel_id: panel.id,
                year,
                seq,
                kind: BatchKind::Letters.as_str(),
                size: i32::try_from(codes.len()).unwrap_or(i32::MAX),
                created_by,
            },
            now,
        )
        .await?;
        let mut out = Vec::with_capacity(codes.len());
        for (i, code) in codes.iter().enumerate() {
            let pseudonym = self.fresh_pseudonym(&*tx, panel.id).await?;
            let hash = hash_invite_code(code);
            let p = people::insert_panelist(
                &*tx,
                people::NewPanelist {
                    panel_id: panel.id,
                    pseudonym: &pseudonym,
                    invite_code_hash: &hash,
                },
                now,
            )
            .await?;
            let number = invitation_number(year, seq, i + 1);
            store::insert_invitation(
                &*tx,
                NewInvitation {
                    municipality_id: m.id,
                    batch_id: batch.id,
                    panelist_id: p.id,
                    number: &number,
                    code_hash: &hash,
                    replaces_id: None,
                },
                now,
            )
            .await?;
            out.push(Invitation {
                number,
                code: format_invite_code(code),
                pseudonym,
                panel: panel.slug.clone(),
                panel_name: panel.name.clone(),
                municipality: m.name.clone(),
            });
        }
        audit::append(
            &*tx,
            ctx.entry(
                Some(m.id),
                "invites.create",
                "panel",
                panel.slug.clone(),
                serde_json::json!({"count": codes.len(), "batch": batch_number(&batch)}),
            ),
            now,
        )
        .await?;
        tx.commit().await?;
        tracing::info!(
            municipality.id = m.id,
            batch.id = batch.id,
            count = codes.len(),
            "invitation batch made"
        );
        Ok(IssuedBatch {
            id: batch.id,
            number: batch_number(&batch),
            kind: BatchKind::Letters,
            municipality_slug: m.slug,
            invitations: out,
            letter_text: m.letter_text,
        })
    }

    /// Makes a batch of `count` (1–[`super::panels::MAX_WEB_INVITES`]) letters for a
    /// panel of a municipality the actor administers; the codes are in the answer only.
    pub async fn create_invitation_batch(
        &self,
        actor: &Actor,
        panel_slug: &str,
        count: u32,
        ctx: &AuditContext,
    ) -> Result<IssuedBatch> {
        let panel = people::panel_by_slug(self.store.db(), panel_slug)
            .await?
            .ok_or_else(|| Error::not_found("panel_not_found"))?;
        let me =
            policy::require_role(actor, panel.municipality_id, Role::Admin, "panel_not_found")?;
        let max = super::panels::MAX_WEB_INVITES;
        if !(1..=max).contains(&count) {
            return Err(Error::invalid(
                "invalid_count",
                format!("Maak 1 tot {max} uitnodigingen tegelijk."),
            ));
        }
        let codes: Vec<String> = (0..count).map(|_| new_invite_code()).collect();
        self.issue_batch(&panel, &codes, Some(me.id), ctx).await
    }

    async fn batch_views(
        &self,
        m: &municipality::Model,
        batches: Vec<invitation_batch::Model>,
    ) -> Result<Vec<BatchView>> {
        let db = self.store.db();
        let invitations = store::invitations_of_municipality(db, m.id).await?;
        let holders = self.holders(&invitations).await?;
        let panels = people::panels_of_municipality(db, m.id).await?;
        let mut out = Vec::with_capacity(batches.len());
        for b in batches {
            let mut counts = ResponseCounts::default();
            for i in invitations.iter().filter(|i| i.batch_id == b.id) {
                counts.letters += 1;
                counts.used += u64::from(i.first_used_at.is_some());
                if let Some(h) = holders.get(&i.panelist_id) {
                    counts.consented += u64::from(h.consented);
                    counts.reacted += u64::from(h.reacted);
                }
            }
            let created_by = match b.created_by {
                Some(id) => people::staff_by_id(db, id).await?.map(|s| s.name),
                None => None,
            };
            let panel = panels.iter().find(|p| p.id == b.panel_id);
            out.push(BatchView {
                id: b.id,
                number: batch_number(&b),
                kind: BatchKind::parse(&b.kind),
                panel: panel.map(|p| p.slug.clone()).unwrap_or_default(),
                panel_name: panel.map(|p| p.name.clone()).unwrap_or_default(),
                size: b.size,
                created_at: b.created_at,
                created_by,
                figures: counts.publish(),
            });
        }
        Ok(out)
    }

    /// What the holders of these invitations did, by panelist id.
    async fn holders(
        &self,
        invitations: &[invitation::Model],
    ) -> Result<std::collections::HashMap<i64, Holder>> {
        let db = self.store.db();
        let mut panelist_ids: Vec<i64> = invitations.iter().map(|i| i.panelist_id).collect();
        panelist_ids.sort_unstable();
        panelist_ids.dedup();
        let reacted = store::panelists_with_reaction(db, &panelist_ids).await?;
        let mut out = std::collections::HashMap::new();
        for p in people::panelists_by_ids(db, &panelist_ids).await? {
            out.insert(
                p.id,
                Holder {
                    used: p.first_login_at.is_some(),
                    consented: p.profile_consent,
                    reacted: reacted.contains(&p.id),
                },
            );
        }
        Ok(out)
    }

    /// The response per panel and per batch of a municipality (analysts and admins),
    /// every figure under [`MIN_GROUP_SIZE`] suppressed as in the analysis.
    pub async fn response_overview(
        &self,
        actor: &Actor,
        municipality_slug: &str,
    ) -> Result<ResponseOverview> {
        let m = self
            .municipality_with_role(actor, municipality_slug, Role::Analyst)
            .await?;
        let db = self.store.db();
        let invitations = store::invitations_of_municipality(db, m.id).await?;
        let holders = self.holders(&invitations).await?;
        let batches = store::batches_of_municipality(db, m.id).await?;
        let mut panels = Vec::new();
        for p in people::panels_of_municipality(db, m.id).await? {
            let batch_ids: Vec<i64> = batches
                .iter()
                .filter(|b| b.panel_id == p.id)
                .map(|b| b.id)
                .collect();
            let mut counts = ResponseCounts::default();
            let mut seen: Vec<i64> = Vec::new();
            for i in invitations
                .iter()
                .filter(|i| batch_ids.contains(&i.batch_id))
            {
                counts.letters += 1;
                if seen.contains(&i.panelist_id) {
                    continue;
                }
                seen.push(i.panelist_id);
                if let Some(h) = holders.get(&i.panelist_id) {
                    counts.used += u64::from(h.used);
                    counts.consented += u64::from(h.consented);
                    counts.reacted += u64::from(h.reacted);
                }
            }
            panels.push(PanelResponse {
                panel: p.slug,
                panel_name: p.name,
                figures: counts.publish(),
            });
        }
        let batches = self.batch_views(&m, batches).await?;
        Ok(ResponseOverview { panels, batches })
    }

    /// A batch with its invitations (admins of its municipality).
    pub async fn invitation_batch(&self, actor: &Actor, batch_id: i64) -> Result<BatchDetail> {
        let db = self.store.db();
        let b = store::batch_by_id(db, batch_id)
            .await?
            .ok_or_else(|| Error::not_found("batch_not_found"))?;
        policy::require_role(actor, b.municipality_id, Role::Admin, "batch_not_found")?;
        let m = people::municipality_by_id(db, b.municipality_id)
            .await?
            .ok_or_else(|| Error::not_found("batch_not_found"))?;
        let invitations = store::invitations_of_batch(db, b.id).await?;
        let mut views = Vec::with_capacity(invitations.len());
        for i in &invitations {
            views.push(self.invitation_view(i).await?);
        }
        let batch = self
            .batch_views(&m, vec![b])
            .await?
            .pop()
            .ok_or_else(|| Error::not_found("batch_not_found"))?;
        Ok(BatchDetail {
            batch,
            invitations: views,
        })
    }

    async fn invitation_view(&self, i: &invitation::Model) -> Result<InvitationView> {
        let db = self.store.db();
        let batch = store::batch_by_id(db, i.batch_id).await?;
        let p = people::panelist_by_id(db, i.panelist_id).await?;
        let panel = match &p {
            Some(p) => people::panel_by_id(db, p.panel_id).await?,
            None => None,
        };
        let replaces = match i.replaces_id {
            Some(id) => store::invitation_by_id(db, id).await?.map(|r| r.number),
            None => None,
        };
        let replaced_by = store::replacement_of(db, i.id).await?.map(|r| r.number);
        Ok(InvitationView {
            number: i.number.clone(),
            batch: batch.as_ref().map(batch_number).unwrap_or_default(),
            status: i.status.clone(),
            pseudonym: p.map(|p| p.pseudonym).unwrap_or_default(),
            panel: panel.map(|p| p.slug).unwrap_or_default(),
            first_used_at: i.first_used_at,
            ended_at: i.revoked_at,
            replaces,
            replaced_by,
        })
    }

    /// An invitation of a municipality the actor administers, by number.
    pub async fn invitation_by_number(
        &self,
        actor: &Actor,
        municipality_slug: &str,
        number: &str,
    ) -> Result<InvitationView> {
        let m = self
            .municipality_with_role(actor, municipality_slug, Role::Admin)
            .await?;
        let number = number.trim();
        if !plausible_number(number) {
            return Err(invalid_number());
        }
        let i = store::invitation_by_number(self.store.db(), m.id, number)
            .await?
            .ok_or_else(invalid_number)?;
        self.invitation_view(&i).await
    }

    /// Revokes an invitation by its number: its code logs nobody in from now on, the
    /// panelist's sessions end (open sockets close) and their posts and profile stay.
    /// Audited as `invitation.revoke` with the number, never the code.
    pub async fn revoke_invitation(
        &self,
        actor: &Actor,
        municipality_slug: &str,
        number: &str,
        ctx: &AuditContext,
    ) -> Result<InvitationView> {
        let m = self
            .municipality_with_role(actor, municipality_slug, Role::Admin)
            .await?;
        self.revoke_code(&m, number, ctx).await
    }

    async fn revoke_code(
        &self,
        m: &municipality::Model,
        number: &str,
        ctx: &AuditContext,
    ) -> Result<InvitationView> {
        let number = number.trim();
        if !plausible_number(number) {
            return Err(invalid_number());
        }
        let now = self.now();
        let tx = self.store.begin_write().await?;
        let i = store::invitation_by_number(&*tx, m.id, number)
            .await?
            .ok_or_else(invalid_number)?;
        if !store::end_invitation(&*tx, i.id, "revoked", now).await? {
            return Err(Error::conflict(
                "invitation_not_active",
                "Deze uitnodiging is al ingetrokken of vervangen.",
            ));
        }
        store::set_panelist_code_hash(&*tx, i.panelist_id, &void_code_hash()).await?;
        sessions::delete_for_panelist(&*tx, i.panelist_id).await?;
        audit::append(
            &*tx,
            ctx.entry(
                Some(m.id),
                "invitation.revoke",
                "invitation",
                i.number.clone(),
                serde_json::json!({"panelist_id": i.panelist_id}),
            ),
            now,
        )
        .await?;
        tx.commit().await?;
        self.ring_person(Person::Panelist(i.panelist_id));
        tracing::info!(
            municipality.id = m.id,
            invitation.id = i.id,
            "invitation revoked"
        );
        let i = store::invitation_by_id(self.store.db(), i.id)
            .await?
            .ok_or_else(invalid_number)?;
        self.invitation_view(&i).await
    }

    /// Issues a new code to the panelist of an invitation (active or revoked, not one
    /// already replaced) in a batch of its own: the old code stops working, the
    /// panelist's sessions end, and their posts and profile stay theirs. The new code
    /// is in the answer only. Audited as `invitation.replace` with both numbers.
    pub async fn replace_invitation(
        &self,
        actor: &Actor,
        municipality_slug: &str,
        number: &str,
        ctx: &AuditContext,
    ) -> Result<IssuedBatch> {
        let m = self
            .municipality_with_role(actor, municipality_slug, Role::Admin)
            .await?;
        let created_by = match actor {
            Actor::Staff(s) => Some(s.id),
            Actor::Panelist(_) => None,
        };
        self.replace_code(&m, number, created_by, ctx).await
    }

    /// [`Self::replace_invitation`] for the command line.
    pub async fn replace_invitation_unchecked(
        &self,
        municipality_slug: &str,
        number: &str,
        ctx: &AuditContext,
    ) -> Result<IssuedBatch> {
        let m = people::municipality_by_slug(self.store.db(), municipality_slug)
            .await?
            .ok_or_else(|| Error::not_found("municipality_not_found"))?;
        self.replace_code(&m, number, None, ctx).await
    }

    /// [`Self::revoke_invitation`] for the command line.
    pub async fn revoke_invitation_unchecked(
        &self,
        municipality_slug: &str,
        number: &str,
        ctx: &AuditContext,
    ) -> Result<InvitationView> {
        let m = people::municipality_by_slug(self.store.db(), municipality_slug)
            .await?
            .ok_or_else(|| Error::not_found("municipality_not_found"))?;
        self.revoke_code(&m, number, ctx).await
    }

    async fn replace_code(
        &self,
        m: &municipality::Model,
        number: &str,
        created_by: Option<i64>,
        ctx: &AuditContext,
    ) -> Result<IssuedBatch> {
        let number = number.trim();
        if !plausible_number(number) {
            return Err(invalid_number());
        }
        let now = self.now();
        let year = now.year();
        let code = new_invite_code();
        let hash = hash_invite_code(&code);
        let tx = self.store.begin_write().await?;
        let old = store::invitation_by_number(&*tx, m.id, number)
            .await?
            .ok_or_else(invalid_number)?;
        if let Some(newer) = store::replacement_of(&*tx, old.id).await? {
            return Err(Error::conflict(
                "invitation_replaced",
                format!(
                    "Deze uitnodiging is al vervangen door {}; vervang die als ook die code kwijt is.",
                    newer.number
                ),
            ));
        }
        if old.status == "active" {
            store::end_invitation(&*tx, old.id, "replaced", now).await?;
        }
        let p = people::panelist_by_id(&*tx, old.panelist_id)
            .await?
            .ok_or_else(invalid_number)?;
        if p.left_at.is_some() {
            return Err(Error::conflict(
                "panelist_left",
                "Deze deelnemer heeft het panel verlaten; een nieuwe code kan niet meer.",
            ));
        }
        let panel = people::panel_by_id(&*tx, p.panel_id)
            .await?
            .ok_or_else(invalid_number)?;
        let seq = store::next_batch_seq(&*tx, m.id, year).await?;
        let batch = store::insert_batch(
            &*tx,
            NewBatch {
                municipality_id: m.id,
                panel_id: panel.id,
                year,
                seq,
                kind: BatchKind::Replacement.as_str(),
                size: 1,
                created_by,
            },
            now,
        )
        .await?;
        let new_number = invitation_number(year, seq, 1);
        store::insert_invitation(
            &*tx,
            NewInvitation {
                municipality_id: m.id,
                batch_id: batch.id,
                panelist_id: p.id,
                number: &new_number,
                code_hash: &hash,
                replaces_id: Some(old.id),
            },
            now,
        )
        .await?;
        store::set_panelist_code_hash(&*tx, p.id, &hash).await?;
        sessions::delete_for_panelist(&*tx, p.id).await?;
        audit::append(
            &*tx,
            ctx.entry(
                Some(m.id),
                "invitation.replace",
                "invitation",
                old.number.clone(),
                serde_json::json!({"new_number": new_number, "panelist_id": p.id}),
            ),
            now,
        )
        .await?;
        tx.commit().await?;
        self.ring_person(Person::Panelist(p.id));
        tracing::info!(
            municipality.id = m.id,
            invitation.id = old.id,
            "invitation replaced"
        );
        Ok(IssuedBatch {
            id: batch.id,
            number: batch_number(&batch),
            kind: BatchKind::Replacement,
            municipality_slug: m.slug.clone(),
            invitations: vec![Invitation {
                number: new_number,
                code: format_invite_code(&code),
                pseudonym: p.pseudonym,
                panel: panel.slug,
                panel_name: panel.name,
                municipality: m.name.clone(),
            }],
            letter_text: m.letter_text.clone(),
        })
    }

    /// The letter text of a municipality the actor administers.
    pub async fn letter_settings(
        &self,
        actor: &Actor,
        municipality_slug: &str,
    ) -> Result<LetterSettings> {
        let m = self
            .municipality_with_role(actor, municipality_slug, Role::Admin)
            .await?;
        Ok(LetterSettings {
            text: m.letter_text,
        })
    }

    /// Sets the letter text of a municipality the actor administers (empty: back to
    /// the default). It must fit on the letter: at most [`MAX_LETTER_TEXT`] characters
    /// and [`crate::web::letters::MAX_BODY_LINES`] printed lines. Audited as
    /// `letter.update`.
    pub async fn set_letter_text(
        &self,
        actor: &Actor,
        municipality_slug: &str,
        text: &str,
        ctx: &AuditContext,
    ) -> Result<LetterSettings> {
        let m = self
            .municipality_with_role(actor, municipality_slug, Role::Admin)
            .await?;
        let text = text.trim();
        if text.chars().count() > MAX_LETTER_TEXT
            || crate::web::letters::wrap(text).len() > crate::web::letters::MAX_BODY_LINES
        {
            return Err(Error::invalid_fields(
                "letter_too_long",
                format!(
                    "De brieftekst past niet op één bladzijde: gebruik hoogstens {MAX_LETTER_TEXT} tekens en {} regels.",
                    crate::web::letters::MAX_BODY_LINES
                ),
                vec!["text"],
            ));
        }
        let stored = (!text.is_empty()).then(|| text.to_owned());
        let now = self.now();
        let tx = self.store.begin_write().await?;
        store::set_letter_text(&*tx, m.id, stored.clone()).await?;
        audit::append(
            &*tx,
            ctx.entry(
                Some(m.id),
                "letter.update",
                "municipality",
                m.slug.clone(),
                serde_json::json!({"default": stored.is_none()}),
            ),
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(LetterSettings { text: stored })
    }
}

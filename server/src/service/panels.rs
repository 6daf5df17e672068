//! Tenants and people: municipalities, panels, invite codes for the mail merge, and staff
//! accounts with their roles and the invitations that carry an account into another
//! municipality (see [`StaffGrant`]). The unchecked functions serve the command line and
//! the demo seed; the staff pages use the ones that take an [`Actor`] and ask [`policy`]
//! first.

use chrono::{DateTime, Utc};
use rand::Rng;
use serde::Serialize;
use subtle::ConstantTimeEq;

use super::auth::{MIN_PASSWORD_LENGTH, hash_password};
use super::error::{Error, Result};
use super::policy::{self, Actor};
use super::{AuditContext, Service};
use crate::domain::secrets::{
    INVITE_ALPHABET, format_invite_code, hash_invite_code, new_invite_code, normalize_invite_code,
    plausible_invite_code,
};
use crate::domain::{Role, text_length};
use crate::store::entities::{municipality, panel, staff_user};
use crate::store::{audit, is_unique_violation, people};

/// One invitation for the mail merge. The code exists only here: it is stored hashed.
#[derive(Clone, Debug, Serialize)]
pub struct Invitation {
    /// The invitation number staff and panelist can read over the phone
    /// (`2026-003-0142`).
    pub number: String,
    /// The code as printed on the letter (`ABCD-EFGH-JKLMN`).
    pub code: String,
    /// The pseudonym the panelist will post under.
    pub pseudonym: String,
    /// Panel slug.
    pub panel: String,
    /// Panel name, for the letter.
    pub panel_name: String,
    /// Municipality name, for the letter.
    pub municipality: String,
}

fn staff_only() -> Error {
    Error::forbidden("staff_only", "Alleen medewerkers hebben een account.")
}

fn check_slug(slug: &str) -> Result<()> {
    let ok = (2..=64).contains(&slug.len())
        && slug
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(Error::invalid(
            "invalid_slug",
            "Een slug bestaat uit 2–64 kleine letters, cijfers of streepjes.",
        ))
    }
}

/// Most invitations one request of the staff pages may create (the command line allows
/// more).
pub const MAX_WEB_INVITES: u32 = 2000;

/// A panel with the number of its members.
#[derive(Clone, Debug, Serialize)]
pub struct PanelSummary {
    /// Panel slug.
    pub slug: String,
    /// Panel name.
    pub name: String,
    /// Panelists on the panel (invited, whether or not they logged in).
    pub members: u64,
}

/// A municipality a staff member works for, with their roles there.
#[derive(Clone, Debug, Serialize)]
pub struct Workplace {
    /// Municipality slug.
    pub slug: String,
    /// Municipality name.
    pub name: String,
    /// The staff member's roles there.
    pub roles: Vec<Role>,
}

impl Workplace {
    /// Whether the staff member administers this municipality.
    pub fn is_admin(&self) -> bool {
        self.roles.contains(&Role::Admin)
    }
}

/// A staff member of one municipality, with their roles there.
#[derive(Clone, Debug, Serialize)]
pub struct StaffMember {
    /// Staff id.
    pub id: i64,
    /// E-mail address.
    pub email: String,
    /// Display name.
    pub name: String,
    /// Roles in the municipality.
    pub roles: Vec<Role>,
    /// Whether the account is disabled.
    pub disabled: bool,
    /// Last login, if any.
    pub last_login_at: Option<DateTime<Utc>>,
}

/// How long an invitation of an existing account to another municipality can be
/// accepted.
pub const STAFF_INVITATION_DAYS: i64 = 14;

/// What giving an address a role in a municipality did.
///
/// An account belongs to one e-mail address and may work for several municipalities,
/// but never by surprise: only an address without an account gets a new one (and a
/// password that whoever made it knows), only an account that already works in the
/// municipality gains the role at once, and any other account is *invited*. The
/// invitation takes effect when its holder, logged in with a password of their own,
/// enters the code the inviting admin passed on.
#[derive(Debug)]
pub enum StaffGrant {
    /// A new account, with the password given, holding the role.
    Created(staff_user::Model),
    /// The account already worked in this municipality and now holds the role too.
    Granted(staff_user::Model),
    /// The address has an account that does not work here. Nothing is granted: the
    /// holder accepts with `code` (shown only here; stored hashed) before
    /// `expires_at`. Nothing else about the account is told.
    Invited {
        /// The address, as stored.
        email: String,
        /// The acceptance code as the admin passes it on (`ABCD-EFGH-JKLMN`).
        code: String,
        /// Until when it can be accepted.
        expires_at: DateTime<Utc>,
    },
}

/// What an admin's adding of a staff member did, and for a new account its generated
/// password, which exists only here (it is stored hashed).
pub struct AddedStaff {
    /// What happened.
    pub grant: StaffGrant,
    /// The generated password, only when a new account was made.
    pub password: Option<String>,
}

/// An invitation a municipality has out, as its admins see it: the address and role,
/// nothing else of the account.
#[derive(Clone, Debug, Serialize)]
pub struct PendingInvitation {
    /// Invitation id.
    pub id: i64,
    /// The invited address.
    pub email: String,
    /// The role offered.
    pub role: Role,
    /// When it was made.
    pub created_at: DateTime<Utc>,
    /// Until when it can be accepted.
    pub expires_at: DateTime<Utc>,
    /// Whether it can no longer be accepted.
    pub expired: bool,
}

/// An invitation waiting for the signed-in staff member.
#[derive(Clone, Debug, Serialize)]
pub struct OwnInvitation {
    /// Invitation id.
    pub id: i64,
    /// Municipality slug.
    pub municipality: String,
    /// Municipality name.
    pub municipality_name: String,
    /// The role offered.
    pub role: Role,
    /// Until when it can be accepted.
    pub expires_at: DateTime<Utc>,
    /// Whether it can no longer be accepted.
    pub expired: bool,
}

/// The invitations waiting for a staff member, and whether they can accept any.
#[derive(Clone, Debug, Serialize)]
pub struct OwnInvitations {
    /// Oldest first.
    pub invitations: Vec<OwnInvitation>,
    /// Whether the account's password is its holder's own (set since it was handed
    /// out); without one no invitation can be accepted.
    pub own_password: bool,
}

/// Length of a generated staff password: 20 symbols of 5 bits, 100 random bits.
const GENERATED_PASSWORD_SYMBOLS: usize = 20;

/// A fresh random password for a new staff account, in groups of five
/// (`ABCDE-FGHJK-LMNPQ-RSTUV`), from the unambiguous invite alphabet.
fn new_staff_password() -> String {
    let mut rng = rand::rngs::OsRng;
    let symbols: Vec<char> = (0..GENERATED_PASSWORD_SYMBOLS)
        .map(|_| INVITE_ALPHABET[rng.gen_range(0..INVITE_ALPHABET.len())] as char)
        .collect();
    symbols
        .chunks(5)
        .map(|c| c.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join("-")
}

impl Service {
    /// Creates a municipality.
    pub async fn create_municipality(&self, slug: &str, name: &str) -> Result<municipality::Model> {
        check_slug(slug)?;
        people::insert_municipality(self.store.db(), slug, name, self.now())
            .await
            .map_err(|e| {
                if is_unique_violation(&e) {
                    Error::conflict("slug_taken", "Deze slug bestaat al.")
                } else {
                    e.into()
                }
            })
    }

    /// Creates a panel in a municipality.
    pub async fn create_panel(
        &self,
        municipality_slug: &str,
        slug: &str,
        name: &str,
    ) -> Result<panel::Model> {
        check_slug(slug)?;
        let m = people::municipality_by_slug(self.store.db(), municipality_slug)
            .await?
            .ok_or_else(|| Error::not_found("municipality_not_found"))?;
        people::insert_panel(self.store.db(), m.id, slug, name, self.now())
            .await
            .map_err(|e| {
                if is_unique_violation(&e) {
                    Error::conflict("slug_taken", "Deze slug bestaat al.")
                } else {
                    e.into()
                }
            })
    }

    /// Creates `count` panelists on a panel with fresh invite codes; returns the codes for
    /// the mail merge (they are not kept anywhere else).
    pub async fn create_invites(
        &self,
        panel_slug: &str,
        count: u32,
        ctx: &AuditContext,
    ) -> Result<Vec<Invitation>> {
        if !(1..=10_000).contains(&count) {
            return Err(Error::invalid(
                "invalid_count",
                "Maak 1 tot 10000 uitnodigingen tegelijk.",
            ));
        }
        let codes: Vec<String> = (0..count).map(|_| new_invite_code()).collect();
        self.create_panelists_with_codes(panel_slug, &codes, ctx)
            .await
    }

    /// Creates panelists with the given plain codes (the demo uses fixed ones), as one
    /// batch of numbered invitations.
    pub async fn create_panelists_with_codes(
        &self,
        panel_slug: &str,
        codes: &[String],
        ctx: &AuditContext,
    ) -> Result<Vec<Invitation>> {
        Ok(self
            .create_batch_with_codes(panel_slug, codes, ctx)
            .await?
            .invitations)
    }

    /// [`Self::create_panelists_with_codes`], answering with the whole batch (the
    /// command line prints its letters).
    pub async fn create_batch_with_codes(
        &self,
        panel_slug: &str,
        codes: &[String],
        ctx: &AuditContext,
    ) -> Result<super::invitations::IssuedBatch> {
        let panel = people::panel_by_slug(self.store.db(), panel_slug)
            .await?
            .ok_or_else(|| Error::not_found("panel_not_found"))?;
        let mut normalized = Vec::with_capacity(codes.len());
        for code in codes {
            let code = normalize_invite_code(code);
            if !plausible_invite_code(&code) {
                return Err(Error::invalid(
                    "invalid_code",
                    "Ongeldige uitnodigingscode.",
                ));
            }
            normalized.push(code);
        }
        self.issue_batch(&panel, &normalized, None, ctx).await
    }

    /// A pseudonym not yet used on the panel (after twenty tries, the last one drawn).
    pub(super) async fn fresh_pseudonym<C: sea_orm::ConnectionTrait>(
        &self,
        db: &C,
        panel_id: i64,
    ) -> Result<String> {
        let mut pseudonym = crate::domain::names::random_name();
        for _ in 0..20 {
            if !people::pseudonym_taken(db, panel_id, &pseudonym).await? {
                break;
            }
            pseudonym = crate::domain::names::random_name();
        }
        Ok(pseudonym)
    }

    /// Gives an address a role in a municipality for the command line and the demo: a
    /// new account gets `password`; an account that works there gains the role; any
    /// other account is invited (see [`StaffGrant`]) and keeps its own password.
    pub async fn create_staff(
        &self,
        municipality_slug: &str,
        email: &str,
        name: &str,
        role: Role,
        password: &str,
        ctx: &AuditContext,
    ) -> Result<StaffGrant> {
        let m = people::municipality_by_slug(self.store.db(), municipality_slug)
            .await?
            .ok_or_else(|| Error::not_found("municipality_not_found"))?;
        self.grant_staff_role(&m, email, name, role, password, None, ctx)
            .await
    }

    /// The one way a role is given: see [`StaffGrant`]. Audited as `staff.create`,
    /// `staff.grant` or `staff.invite` (never with a password or code).
    #[allow(
        clippy::too_many_arguments,
        reason = "the command line and the staff page each pass every field once"
    )]
    async fn grant_staff_role(
        &self,
        m: &municipality::Model,
        email: &str,
        name: &str,
        role: Role,
        password: &str,
        invited_by: Option<i64>,
        ctx: &AuditContext,
    ) -> Result<StaffGrant> {
        let email = email.trim().to_lowercase();
        let at = email.find('@');
        if email.len() > 254
            || at.is_none_or(|i| i == 0 || i + 1 >= email.len())
            || email.contains(char::is_whitespace)
        {
            return Err(Error::invalid(
                "invalid_email",
                "Dat is geen geldig e-mailadres.",
            ));
        }
        if password.chars().count() < MIN_PASSWORD_LENGTH {
            return Err(Error::invalid(
                "weak_password",
                format!("Een wachtwoord heeft minstens {MIN_PASSWORD_LENGTH} tekens."),
            ));
        }
        let hash = {
            let password = password.to_owned();
            tokio::task::spawn_blocking(move || hash_password(&password))
                .await
                .map_err(|e| Error::Internal(format!("hashing: {e}")))??
        };
        let now = self.now();
        let tx = self.store.begin_write().await?;
        let (grant, action, staff_id) = match people::staff_by_email(&*tx, &email).await? {
            None => {
                let display = if name.trim().is_empty() {
                    email.clone()
                } else {
                    name.trim().to_owned()
                };
                let staff = people::insert_staff(&*tx, &email, &display, &hash, now).await?;
                people::grant_role(&*tx, staff.id, m.id, role.as_str(), now).await?;
                let id = staff.id;
                (StaffGrant::Created(staff), "staff.create", id)
            }
            Some(staff) if people::has_role_in(&*tx, staff.id, m.id).await? => {
                people::grant_role(&*tx, staff.id, m.id, role.as_str(), now).await?;
                let id = staff.id;
                (StaffGrant::Granted(staff), "staff.grant", id)
            }
            Some(staff) => {
                let code = new_invite_code();
                let expires_at = now + chrono::Duration::days(STAFF_INVITATION_DAYS);
                people::replace_staff_invitation(
                    &*tx,
                    people::NewStaffInvitation {
                        staff_id: staff.id,
                        municipality_id: m.id,
                        role: role.as_str(),
                        code_hash: &hash_invite_code(&code),
                        invited_by,
                        expires_at,
                    },
                    now,
                )
                .await?;
                let grant = StaffGrant::Invited {
                    email: staff.email,
                    code: format_invite_code(&code),
                    expires_at,
                };
                (grant, "staff.invite", staff.id)
            }
        };
        audit::append(
            &*tx,
            ctx.entry(
                Some(m.id),
                action,
                "staff_user",
                staff_id.to_string(),
                serde_json::json!({"role": role}),
            ),
            now,
        )
        .await?;
        tx.commit().await?;
        if let StaffGrant::Granted(_) = &grant {
            // Open connections of that account reload its roles.
            self.ring_person(super::Person::Staff(staff_id));
        }
        tracing::info!(
            staff.id = staff_id,
            municipality.id = m.id,
            action,
            "staff role given"
        );
        Ok(grant)
    }
}

impl Service {
    /// The municipality `slug` if the actor administers it; `municipality_not_found` for
    /// outsiders, `forbidden` for its staff in other roles.
    async fn administered(&self, actor: &Actor, slug: &str) -> Result<municipality::Model> {
        let m = people::municipality_by_slug(self.store.db(), slug)
            .await?
            .ok_or_else(|| Error::not_found("municipality_not_found"))?;
        policy::require_role(actor, m.id, Role::Admin, "municipality_not_found")?;
        Ok(m)
    }

    /// The municipalities a staff member works for, with their roles there, in the order
    /// the roles were granted. Panelists have none.
    pub async fn workplaces(&self, actor: &Actor) -> Result<Vec<Workplace>> {
        let Actor::Staff(s) = actor else {
            return Ok(Vec::new());
        };
        let mut out: Vec<Workplace> = Vec::new();
        for r in &s.roles {
            if let Some(w) = out.iter_mut().find(|w| w.slug == r.municipality) {
                if !w.roles.contains(&r.role) {
                    w.roles.push(r.role);
                }
                continue;
            }
            let name = people::municipality_by_id(self.store.db(), r.municipality_id)
                .await?
                .map(|m| m.name)
                .unwrap_or_else(|| r.municipality.clone());
            out.push(Workplace {
                slug: r.municipality.clone(),
                name,
                roles: vec![r.role],
            });
        }
        Ok(out)
    }

    /// The panels of a municipality with their member counts (admins).
    pub async fn list_panels(
        &self,
        actor: &Actor,
        municipality_slug: &str,
    ) -> Result<Vec<PanelSummary>> {
        let m = self.administered(actor, municipality_slug).await?;
        let db = self.store.db();
        let mut out = Vec::new();
        for p in people::panels_of_municipality(db, m.id).await? {
            out.push(PanelSummary {
                members: people::count_panelists_of_panel(db, p.id).await?,
                slug: p.slug,
                name: p.name,
            });
        }
        Ok(out)
    }

    /// Creates a panel in a municipality the actor administers (audited).
    pub async fn add_panel(
        &self,
        actor: &Actor,
        municipality_slug: &str,
        slug: &str,
        name: &str,
        ctx: &AuditContext,
    ) -> Result<panel::Model> {
        let m = self.administered(actor, municipality_slug).await?;
        let name = name.trim();
        if !(2..=100).contains(&text_length(name)) {
            return Err(Error::invalid(
                "invalid_name",
                "Een naam heeft 2 tot 100 tekens.",
            ));
        }
        let slug = slug.trim();
        check_slug(slug)?;
        let now = self.now();
        let tx = self.store.begin_write().await?;
        let panel = people::insert_panel(&*tx, m.id, slug, name, now)
            .await
            .map_err(|e| {
                if is_unique_violation(&e) {
                    Error::conflict("slug_taken", "Deze slug bestaat al.")
                } else {
                    e.into()
                }
            })?;
        audit::append(
            &*tx,
            ctx.entry(
                Some(m.id),
                "panel.create",
                "panel",
                panel.slug.clone(),
                serde_json::json!({"name": panel.name}),
            ),
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(panel)
    }

    /// Creates `count` (1–[`MAX_WEB_INVITES`]) panelists on a panel of a municipality the
    /// actor administers, audited like the command line's `invites create`; returns the
    /// codes for the mail merge.
    pub async fn invite_panelists(
        &self,
        actor: &Actor,
        panel_slug: &str,
        count: u32,
        ctx: &AuditContext,
    ) -> Result<Vec<Invitation>> {
        let panel = people::panel_by_slug(self.store.db(), panel_slug)
            .await?
            .ok_or_else(|| Error::not_found("panel_not_found"))?;
        policy::require_role(actor, panel.municipality_id, Role::Admin, "panel_not_found")?;
        if !(1..=MAX_WEB_INVITES).contains(&count) {
            return Err(Error::invalid(
                "invalid_count",
                format!("Maak 1 tot {MAX_WEB_INVITES} uitnodigingen tegelijk."),
            ));
        }
        self.create_invites(&panel.slug, count, ctx).await
    }

    /// The staff of a municipality with their roles there (admins).
    pub async fn list_staff(
        &self,
        actor: &Actor,
        municipality_slug: &str,
    ) -> Result<Vec<StaffMember>> {
        let m = self.administered(actor, municipality_slug).await?;
        let db = self.store.db();
        let mut out: Vec<StaffMember> = Vec::new();
        for r in people::roles_in_municipality(db, m.id).await? {
            let Some(role) = Role::parse(&r.role) else {
                continue;
            };
            if let Some(member) = out.iter_mut().find(|s| s.id == r.staff_id) {
                member.roles.push(role);
                continue;
            }
            if let Some(s) = people::staff_by_id(db, r.staff_id).await? {
                out.push(StaffMember {
                    id: s.id,
                    email: s.email,
                    name: s.name,
                    roles: vec![role],
                    disabled: s.disabled,
                    last_login_at: s.last_login_at,
                });
            }
        }
        out.sort_by_key(|s| s.name.to_lowercase());
        Ok(out)
    }

    /// Gives someone a role in a municipality the actor administers (see
    /// [`StaffGrant`]). A new account gets a generated password of 100 random bits,
    /// returned once for the admin to pass on; an account that works here gains the
    /// role; any other account gets an invitation whose code is returned once.
    pub async fn add_staff(
        &self,
        actor: &Actor,
        municipality_slug: &str,
        email: &str,
        name: &str,
        role: Role,
        ctx: &AuditContext,
    ) -> Result<AddedStaff> {
        let m = self.administered(actor, municipality_slug).await?;
        if text_length(name) > 100 {
            return Err(Error::invalid(
                "invalid_name",
                "Een naam heeft hoogstens 100 tekens.",
            ));
        }
        let password = new_staff_password();
        let invited_by = match actor {
            Actor::Staff(s) => Some(s.id),
            Actor::Panelist(_) => None,
        };
        let grant = self
            .grant_staff_role(&m, email, name, role, &password, invited_by, ctx)
            .await?;
        let password = matches!(grant, StaffGrant::Created(_)).then_some(password);
        Ok(AddedStaff { grant, password })
    }

    /// The invitations a municipality the actor administers has out (address and role
    /// only), oldest first.
    pub async fn list_staff_invitations(
        &self,
        actor: &Actor,
        municipality_slug: &str,
    ) -> Result<Vec<PendingInvitation>> {
        let m = self.administered(actor, municipality_slug).await?;
        let now = self.now();
        Ok(
            people::staff_invitations_in_municipality(self.store.db(), m.id)
                .await?
                .into_iter()
                .filter_map(|(i, email)| {
                    Some(PendingInvitation {
                        id: i.id,
                        email,
                        role: Role::parse(&i.role)?,
                        created_at: i.created_at,
                        expires_at: i.expires_at,
                        expired: i.expires_at <= now,
                    })
                })
                .collect(),
        )
    }

    /// Withdraws an invitation of a municipality the actor administers (audited as
    /// `staff.invite_withdraw`); its code is void from then on.
    pub async fn withdraw_staff_invitation(
        &self,
        actor: &Actor,
        municipality_slug: &str,
        invitation_id: i64,
        ctx: &AuditContext,
    ) -> Result<()> {
        let m = self.administered(actor, municipality_slug).await?;
        let now = self.now();
        let tx = self.store.begin_write().await?;
        let invitation = people::staff_invitation_by_id(&*tx, invitation_id)
            .await?
            .filter(|i| i.municipality_id == m.id)
            .ok_or_else(|| Error::not_found("invitation_not_found"))?;
        people::delete_staff_invitation(&*tx, invitation.id).await?;
        audit::append(
            &*tx,
            ctx.entry(
                Some(m.id),
                "staff.invite_withdraw",
                "staff_user",
                invitation.staff_id.to_string(),
                serde_json::json!({"role": invitation.role}),
            ),
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The invitations waiting for the signed-in staff member.
    pub async fn own_staff_invitations(&self, actor: &Actor) -> Result<OwnInvitations> {
        let Actor::Staff(me) = actor else {
            return Err(staff_only());
        };
        let db = self.store.db();
        let account = people::staff_by_id(db, me.id)
            .await?
            .ok_or_else(Error::unauthenticated)?;
        let now = self.now();
        let invitations = people::staff_invitations_of_staff(db, me.id)
            .await?
            .into_iter()
            .filter_map(|(i, m)| {
                Some(OwnInvitation {
                    id: i.id,
                    municipality: m.slug,
                    municipality_name: m.name,
                    role: Role::parse(&i.role)?,
                    expires_at: i.expires_at,
                    expired: i.expires_at <= now,
                })
            })
            .collect();
        Ok(OwnInvitations {
            invitations,
            own_password: account.password_chosen_at.is_some(),
        })
    }

    /// Accepts an invitation of the signed-in staff member with the code the inviting
    /// admin passed on: the role takes effect at once (audited as `staff.accept` in the
    /// inviting municipality) and open connections reload the roles. Refused while the
    /// account's password is one that was handed out (`own_password_required`): whoever
    /// handed it out could otherwise use the new role. Wrong codes back off per
    /// account like wrong passwords.
    pub async fn accept_staff_invitation(
        &self,
        actor: &Actor,
        invitation_id: i64,
        code: &str,
        ctx: &AuditContext,
    ) -> Result<OwnInvitation> {
        let Actor::Staff(me) = actor else {
            return Err(staff_only());
        };
        let db = self.store.db();
        let invitation = people::staff_invitation_by_id(db, invitation_id)
            .await?
            .filter(|i| i.staff_id == me.id)
            .ok_or_else(|| Error::not_found("invitation_not_found"))?;
        let now = self.now();
        if invitation.expires_at <= now {
            return Err(Error::conflict(
                "invitation_expired",
                "Deze uitnodiging is verlopen. Vraag de beheerder van de gemeente om een nieuwe.",
            ));
        }
        let account = people::staff_by_id(db, me.id)
            .await?
            .ok_or_else(Error::unauthenticated)?;
        if account.password_chosen_at.is_none() {
            return Err(Error::conflict(
                "own_password_required",
                "Kies eerst een eigen wachtwoord. Het wachtwoord waarmee u bent begonnen, \
                 heeft iemand anders gezien; daarmee kan uw account niet voor een andere \
                 gemeente werken.",
            ));
        }
        let throttle_key = format!("invitation:{}", me.id);
        self.login_throttle.check_account(&throttle_key)?;
        let typed = normalize_invite_code(code);
        let matches = plausible_invite_code(&typed)
            && bool::from(
                hash_invite_code(&typed)
                    .as_bytes()
                    .ct_eq(invitation.code_hash.as_bytes()),
            );
        if !matches {
            return Err(Error::invalid(
                "wrong_invitation_code",
                "Deze code hoort niet bij de uitnodiging. Gebruik de code die u van de \
                 beheerder van die gemeente kreeg.",
            ));
        }
        self.login_throttle.account_succeeded(&throttle_key);
        let role = Role::parse(&invitation.role)
            .ok_or_else(|| Error::Internal(format!("unknown role {}", invitation.role)))?;
        let m = people::municipality_by_id(db, invitation.municipality_id)
            .await?
            .ok_or_else(|| Error::not_found("invitation_not_found"))?;
        let tx = self.store.begin_write().await?;
        // Withdrawn or accepted meanwhile: nothing to accept.
        if !people::delete_staff_invitation(&*tx, invitation.id).await? {
            return Err(Error::not_found("invitation_not_found"));
        }
        people::grant_role(&*tx, me.id, m.id, role.as_str(), now).await?;
        audit::append(
            &*tx,
            ctx.entry(
                Some(m.id),
                "staff.accept",
                "staff_user",
                me.id.to_string(),
                serde_json::json!({"role": role}),
            ),
            now,
        )
        .await?;
        tx.commit().await?;
        self.ring_person(super::Person::Staff(me.id));
        tracing::info!(
            staff.id = me.id,
            municipality.id = m.id,
            "staff invitation accepted"
        );
        Ok(OwnInvitation {
            id: invitation.id,
            municipality: m.slug,
            municipality_name: m.name,
            role,
            expires_at: invitation.expires_at,
            expired: false,
        })
    }

    /// Takes a role in a municipality the actor administers away from a staff member
    /// (audited as `staff.revoke`). Admins cannot take away their own admin role, so a
    /// municipality is never left without one by accident.
    pub async fn revoke_staff_role(
        &self,
        actor: &Actor,
        municipality_slug: &str,
        staff_id: i64,
        role: Role,
        ctx: &AuditContext,
    ) -> Result<()> {
        let m = self.administered(actor, municipality_slug).await?;
        if let Actor::Staff(me) = actor
            && me.id == staff_id
            && role == Role::Admin
        {
            return Err(Error::conflict(
                "own_admin_role",
                "U kunt uw eigen beheerdersrol niet intrekken; vraag dat aan een andere beheerder.",
            ));
        }
        let now = self.now();
        let tx = self.store.begin_write().await?;
        if !people::revoke_role(&*tx, staff_id, m.id, role.as_str()).await? {
            return Err(Error::not_found("staff_not_found"));
        }
        audit::append(
            &*tx,
            ctx.entry(
                Some(m.id),
                "staff.revoke",
                "staff_user",
                staff_id.to_string(),
                serde_json::json!({"role": role}),
            ),
            now,
        )
        .await?;
        tx.commit().await?;
        self.ring_person(super::Person::Staff(staff_id));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_passwords_are_long_and_distinct() {
        let a = new_staff_password();
        let b = new_staff_password();
        assert_eq!(a.len(), GENERATED_PASSWORD_SYMBOLS + 3);
        assert!(a.chars().count() >= MIN_PASSWORD_LENGTH);
        assert_ne!(a, b);
        assert!(a.split('-').all(|g| g.len() == 5));
    }
}

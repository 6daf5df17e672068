//! Tenants and people: municipalities, panels, invite codes for the mail merge, and staff
//! accounts. The unchecked functions serve the command line and the demo seed; the
//! staff pages use the ones that take an [`Actor`] and ask [`policy`] first.

use chrono::{DateTime, Utc};
use rand::Rng;
use rand::seq::SliceRandom;
use serde::Serialize;

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
use crate::store::people::NewPanelist;
use crate::store::{audit, is_unique_violation, people};

/// One invitation for the mail merge. The code exists only here: it is stored hashed.
#[derive(Clone, Debug, Serialize)]
pub struct Invitation {
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

const ADJECTIVES: &[&str] = &[
    "Rustige", "Vrolijke", "Wijze", "Snelle", "Stille", "Dappere", "Zonnige", "Heldere", "Warme",
    "Kalme", "Nuchtere", "Open", "Trouwe", "Vlotte", "Zachte", "Frisse",
];
const NOUNS: &[&str] = &[
    "Reiger", "Linde", "Eik", "Merel", "Vos", "Otter", "Wilg", "Kievit", "Beuk", "Zwaluw", "Das",
    "Populier", "Specht", "Lijster", "Berk", "Egel",
];

fn random_pseudonym() -> String {
    let mut rng = rand::thread_rng();
    format!(
        "{} {} {}",
        ADJECTIVES.choose(&mut rng).copied().unwrap_or("Open"),
        NOUNS.choose(&mut rng).copied().unwrap_or("Linde"),
        rng.gen_range(10..100)
    )
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

/// A staff member added by an admin: the account and, when the account is new, its
/// first password, which exists only here (it is stored hashed).
pub struct AddedStaff {
    /// The account.
    pub staff: staff_user::Model,
    /// The generated password of a new account; `None` when an existing account only
    /// received a role.
    pub password: Option<String>,
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

    /// Creates panelists with the given plain codes (the demo uses fixed ones).
    pub async fn create_panelists_with_codes(
        &self,
        panel_slug: &str,
        codes: &[String],
        ctx: &AuditContext,
    ) -> Result<Vec<Invitation>> {
        let db = self.store.db();
        let panel = people::panel_by_slug(db, panel_slug)
            .await?
            .ok_or_else(|| Error::not_found("panel_not_found"))?;
        let m = people::municipality_by_id(db, panel.municipality_id)
            .await?
            .ok_or_else(|| Error::not_found("municipality_not_found"))?;
        let now = self.now();
        let tx = self.store.begin_write().await?;
        let mut out = Vec::with_capacity(codes.len());
        for code in codes {
            let code = normalize_invite_code(code);
            if !plausible_invite_code(&code) {
                return Err(Error::invalid(
                    "invalid_code",
                    "Ongeldige uitnodigingscode.",
                ));
            }
            let mut pseudonym = random_pseudonym();
            for _ in 0..20 {
                if !people::pseudonym_taken(&*tx, panel.id, &pseudonym).await? {
                    break;
                }
                pseudonym = random_pseudonym();
            }
            people::insert_panelist(
                &*tx,
                NewPanelist {
                    panel_id: panel.id,
                    pseudonym: &pseudonym,
                    invite_code_hash: &hash_invite_code(&code),
                },
                now,
            )
            .await?;
            out.push(Invitation {
                code: format_invite_code(&code),
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
                serde_json::json!({"count": codes.len()}),
            ),
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(out)
    }

    /// Creates a staff account (or adds a role to an existing one) in a municipality.
    pub async fn create_staff(
        &self,
        municipality_slug: &str,
        email: &str,
        name: &str,
        role: Role,
        password: &str,
        ctx: &AuditContext,
    ) -> Result<staff_user::Model> {
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
        let db = self.store.db();
        let m = people::municipality_by_slug(db, municipality_slug)
            .await?
            .ok_or_else(|| Error::not_found("municipality_not_found"))?;
        let hash = {
            let password = password.to_owned();
            tokio::task::spawn_blocking(move || hash_password(&password))
                .await
                .map_err(|e| Error::Internal(format!("hashing: {e}")))??
        };
        let now = self.now();
        let tx = self.store.begin_write().await?;
        let staff = match people::staff_by_email(&*tx, &email).await? {
            Some(s) => s,
            None => {
                let display = if name.trim().is_empty() {
                    email.clone()
                } else {
                    name.trim().to_owned()
                };
                people::insert_staff(&*tx, &email, &display, &hash, now).await?
            }
        };
        people::grant_role(&*tx, staff.id, m.id, role.as_str(), now).await?;
        audit::append(
            &*tx,
            ctx.entry(
                Some(m.id),
                "staff.create",
                "staff_user",
                staff.id.to_string(),
                serde_json::json!({"role": role}),
            ),
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(staff)
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

    /// Gives someone a role in a municipality the actor administers (audited as
    /// `staff.create`). A new account gets a generated password of 100 random bits,
    /// returned once for the admin to pass on; an existing account only gains the role.
    pub async fn add_staff(
        &self,
        actor: &Actor,
        municipality_slug: &str,
        email: &str,
        name: &str,
        role: Role,
        ctx: &AuditContext,
    ) -> Result<AddedStaff> {
        self.administered(actor, municipality_slug).await?;
        if text_length(name) > 100 {
            return Err(Error::invalid(
                "invalid_name",
                "Een naam heeft hoogstens 100 tekens.",
            ));
        }
        let existed = people::staff_by_email(self.store.db(), &email.trim().to_lowercase())
            .await?
            .is_some();
        let password = new_staff_password();
        let staff = self
            .create_staff(municipality_slug, email, name, role, &password, ctx)
            .await?;
        Ok(AddedStaff {
            staff,
            password: (!existed).then_some(password),
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

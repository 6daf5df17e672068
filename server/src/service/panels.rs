//! Tenants and people: municipalities, panels, invite codes for the mail merge, and staff
//! accounts. Used by the command line and the demo seed.

use rand::Rng;
use rand::seq::SliceRandom;
use serde::Serialize;

use super::auth::{MIN_PASSWORD_LENGTH, hash_password};
use super::error::{Error, Result};
use super::{AuditContext, Service};
use crate::domain::Role;
use crate::domain::secrets::{
    format_invite_code, hash_invite_code, new_invite_code, normalize_invite_code,
    plausible_invite_code,
};
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

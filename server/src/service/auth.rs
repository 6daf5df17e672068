//! Logging in and out, and finding the actor behind a session token. Panelists use the
//! code from their letter; staff use e-mail and an argon2id password.

use std::net::IpAddr;

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use super::error::{Error, Result};
use super::policy::{Actor, PanelistActor, StaffActor, StaffRole};
use super::{AuditContext, Service};
use crate::domain::Role;
use crate::domain::secrets::{
    hash_invite_code, hash_token, new_token, normalize_invite_code, plausible_invite_code,
};
use crate::store::entities::session;
use crate::store::sessions::SessionOwner;
use crate::store::{audit, invitations, people, sessions};

/// What the client learns about its session.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct SessionView {
    /// `panelist` or `staff`.
    #[schema(value_type = crate::domain::SessionKind)]
    pub kind: &'static str,
    /// Token to send as `X-CSRF-Token` with every state-changing request.
    pub csrf_token: String,
    /// When the session ends unless used.
    pub expires_at: DateTime<Utc>,
    /// The panelist's pseudonym.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pseudonym: Option<String>,
    /// The staff member's name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The staff member's e-mail address.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// The staff member's roles.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub roles: Vec<StaffRole>,
}

/// A new session: the token for the cookie and what the client may see.
pub struct Login {
    /// Plain session token; goes into the cookie only.
    pub token: String,
    /// Session facts for the client.
    pub view: SessionView,
}

/// An authenticated request's actor with its session.
#[derive(Clone, Debug)]
pub struct Authenticated {
    /// Who.
    pub actor: Actor,
    /// Session row id (for logout).
    pub session_id: i64,
    /// The session's CSRF token.
    pub csrf_token: String,
    /// When the session ends unless used.
    pub expires_at: DateTime<Utc>,
}

/// Hashes a password with argon2id and a random salt.
pub fn hash_password(password: &str) -> Result<String> {
    let salt = SaltString::generate(&mut rand::rngs::OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| Error::Internal(format!("argon2: {e}")))
}

fn verify_password(password: &str, stored: &str) -> bool {
    PasswordHash::new(stored)
        .map(|h| {
            Argon2::default()
                .verify_password(password.as_bytes(), &h)
                .is_ok()
        })
        .unwrap_or(false)
}

/// A valid argon2id hash of a password nobody has, checked for unknown e-mail addresses
/// so that a miss costs as much time as a wrong password.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$u2iUz0V7PPKZ0kXQq0tkjHTR3ZcTQ3QXm13p1jQaKOU";

/// How long a remembered panelist session lives without use.
pub const REMEMBERED_TTL: Duration = Duration::days(30);

/// Minimum length of a staff password.
pub const MIN_PASSWORD_LENGTH: usize = 12;

impl Service {
    /// Logs a panelist in with the code from their letter.
    pub async fn login_panelist(&self, code: &str, ip: Option<IpAddr>) -> Result<Login> {
        self.login_panelist_on_device(code, ip, false).await
    }

    /// Logs a panelist in; with `remember` ("remember me on this device") the session
    /// slides by [`REMEMBERED_TTL`] instead of the usual time. Only panelists can choose
    /// this: staff sessions always keep the short time.
    #[tracing::instrument(skip(self, code))]
    pub async fn login_panelist_on_device(
        &self,
        code: &str,
        ip: Option<IpAddr>,
        remember: bool,
    ) -> Result<Login> {
        self.login_throttle.check(ip)?;
        let normalized = normalize_invite_code(code);
        let invalid = || Error::Unauthenticated {
            code: "invalid_code",
            message: "Deze code kennen we niet. Controleer de code in uw brief.".into(),
        };
        if !plausible_invite_code(&normalized) {
            return Err(invalid());
        }
        let db = self.store.db();
        // The invitation decides: only an active one logs in. A revoked or replaced code
        // gets the same answer as one that never existed.
        let invitation = invitations::invitation_by_code_hash(db, &hash_invite_code(&normalized))
            .await?
            .filter(|i| i.status == "active")
            .ok_or_else(invalid)?;
        let panelist = people::panelist_by_id(db, invitation.panelist_id)
            .await?
            .ok_or_else(invalid)?;
        let now = self.now();
        people::touch_panelist_login(db, &panelist, now).await?;
        invitations::mark_used(db, invitation.id, now).await?;
        tracing::info!(panelist.id = panelist.id, "panelist logged in");
        self.start_session(
            SessionOwner::Panelist(panelist.id),
            ip,
            remember,
            SessionView {
                kind: "panelist",
                csrf_token: String::new(),
                expires_at: now,
                pseudonym: Some(panelist.pseudonym.clone()),
                name: None,
                email: None,
                roles: Vec::new(),
            },
        )
        .await
    }

    /// Logs a staff member in with e-mail and password.
    #[tracing::instrument(skip(self, email, password))]
    pub async fn login_staff(
        &self,
        email: &str,
        password: &str,
        ip: Option<IpAddr>,
    ) -> Result<Login> {
        self.login_throttle.check(ip)?;
        let email = email.trim().to_lowercase();
        // Per address, then per account whatever the address: the same for an address
        // without an account, so a refusal tells nothing about which ones exist.
        self.login_throttle.check_account(&email)?;
        let db = self.store.db();
        let staff = people::staff_by_email(db, &email).await?;
        let stored = staff
            .as_ref()
            .filter(|s| !s.disabled)
            .map(|s| s.password_hash.clone())
            .unwrap_or_else(|| DUMMY_HASH.to_owned());
        let password = password.to_owned();
        let ok = tokio::task::spawn_blocking(move || verify_password(&password, &stored))
            .await
            .map_err(|e| Error::Internal(format!("password check: {e}")))?;
        let staff = match staff {
            Some(s) if ok && !s.disabled => s,
            _ => {
                return Err(Error::Unauthenticated {
                    code: "invalid_credentials",
                    message: "E-mailadres of wachtwoord klopt niet.".into(),
                });
            }
        };
        self.login_throttle.account_succeeded(&email);
        let now = self.now();
        people::touch_staff_login(db, &staff, now).await?;
        let actor = self
            .staff_actor(staff.id)
            .await?
            .ok_or_else(Error::unauthenticated)?;
        for m in actor.municipality_ids() {
            audit::append(
                db,
                AuditContext::new(&Actor::Staff(actor.clone()), ip).entry(
                    Some(m),
                    "staff.login",
                    "staff_user",
                    staff.id.to_string(),
                    serde_json::json!({}),
                ),
                now,
            )
            .await?;
        }
        tracing::info!(staff.id = staff.id, "staff logged in");
        self.start_session(
            SessionOwner::Staff(staff.id),
            ip,
            false,
            SessionView {
                kind: "staff",
                csrf_token: String::new(),
                expires_at: now,
                pseudonym: None,
                name: Some(actor.name.clone()),
                email: Some(actor.email.clone()),
                roles: actor.roles.clone(),
            },
        )
        .await
    }

    async fn start_session(
        &self,
        owner: SessionOwner,
        ip: Option<IpAddr>,
        remember: bool,
        mut view: SessionView,
    ) -> Result<Login> {
        let token = new_token();
        let csrf = new_token();
        let now = self.now();
        // Only a panelist's session may be remembered, whatever the caller asked.
        let remember = remember && matches!(owner, SessionOwner::Panelist(_));
        let expires_at = now + self.session_ttl_of(remember);
        sessions::insert(
            self.store.db(),
            &hash_token(&token),
            &csrf,
            owner,
            ip.map(|i| i.to_string()),
            now,
            expires_at,
            remember,
        )
        .await?;
        view.csrf_token = csrf;
        view.expires_at = expires_at;
        Ok(Login { token, view })
    }

    /// Finds the live session behind a cookie token, extending it when in use. `None`
    /// when the token is unknown, expired, or its owner is gone or disabled.
    pub async fn authenticate(&self, token: &str) -> Result<Option<Authenticated>> {
        let now = self.now();
        let db = self.store.db();
        let Some(s) = sessions::find_live(db, &hash_token(token), now).await? else {
            return Ok(None);
        };
        let actor = match (s.panelist_id, s.staff_id) {
            (Some(id), _) => self.panelist_actor(id).await?.map(Actor::Panelist),
            (None, Some(id)) => self.staff_actor(id).await?.map(Actor::Staff),
            (None, None) => None,
        };
        let Some(actor) = actor else {
            return Ok(None);
        };
        let expires_at = self.renew_if_due(&s, now).await?;
        Ok(Some(Authenticated {
            actor,
            session_id: s.id,
            csrf_token: s.csrf_token,
            expires_at,
        }))
    }

    /// Slides the expiry forward, writing at most once a minute per session.
    async fn renew_if_due(&self, s: &session::Model, now: DateTime<Utc>) -> Result<DateTime<Utc>> {
        if now - s.last_seen_at < Duration::minutes(1) {
            return Ok(s.expires_at);
        }
        let expires_at = now + self.session_ttl_of(s.remembered && s.panelist_id.is_some());
        sessions::extend(self.store.db(), s, now, expires_at).await?;
        Ok(expires_at)
    }

    /// How long a session lives without use: 30 days when remembered, else the setting.
    pub fn session_ttl_of(&self, remembered: bool) -> Duration {
        if remembered {
            REMEMBERED_TTL
        } else {
            self.settings.session_ttl
        }
    }

    /// The session facts for `GET /auth/session`.
    pub fn session_view(&self, auth: &Authenticated) -> SessionView {
        let base = SessionView {
            kind: "panelist",
            csrf_token: auth.csrf_token.clone(),
            expires_at: auth.expires_at,
            pseudonym: None,
            name: None,
            email: None,
            roles: Vec::new(),
        };
        match &auth.actor {
            Actor::Panelist(p) => SessionView {
                pseudonym: Some(p.pseudonym.clone()),
                ..base
            },
            Actor::Staff(s) => SessionView {
                kind: "staff",
                name: Some(s.name.clone()),
                email: Some(s.email.clone()),
                roles: s.roles.clone(),
                ..base
            },
        }
    }

    /// The actor behind an open connection as they are now: `None` when the session
    /// ended or expired, the account is gone or disabled, or the panelist is suspended;
    /// otherwise the actor with their current roles. Live connections call this on
    /// every subscribe and whenever the person's access changed.
    pub async fn current_actor(&self, session_id: i64, actor: &Actor) -> Result<Option<Actor>> {
        let now = self.now();
        if !sessions::is_live(self.store.db(), session_id, now).await? {
            return Ok(None);
        }
        Ok(match actor {
            Actor::Panelist(p) => self
                .panelist_actor(p.id)
                .await?
                .filter(|p| p.suspended_until.is_none_or(|until| until <= now))
                .map(Actor::Panelist),
            Actor::Staff(s) => self.staff_actor(s.id).await?.map(Actor::Staff),
        })
    }

    /// Changes the signed-in staff member's password after checking the current one, and
    /// ends their other sessions (a password change is how one locks out a lost device).
    /// The new password is the holder's own from now on (`password_chosen_at`), which
    /// lets the account accept roles in other municipalities. Failed checks of the
    /// current password back off per account like logins. Audited per municipality;
    /// never logs either password.
    pub async fn change_password(
        &self,
        auth: &Authenticated,
        current: &str,
        new: &str,
        ctx: &AuditContext,
    ) -> Result<()> {
        let Actor::Staff(actor) = &auth.actor else {
            return Err(Error::forbidden(
                "staff_only",
                "Alleen medewerkers hebben een wachtwoord.",
            ));
        };
        if new.chars().count() < MIN_PASSWORD_LENGTH {
            return Err(Error::invalid(
                "weak_password",
                format!("Een wachtwoord heeft minstens {MIN_PASSWORD_LENGTH} tekens."),
            ));
        }
        if new.chars().count() > 200 {
            return Err(Error::invalid(
                "password_too_long",
                "Een wachtwoord heeft hoogstens 200 tekens.",
            ));
        }
        if new == current {
            return Err(Error::invalid(
                "same_password",
                "Kies een ander wachtwoord dan het huidige.",
            ));
        }
        let db = self.store.db();
        let staff = people::staff_by_id(db, actor.id)
            .await?
            .ok_or_else(Error::unauthenticated)?;
        // A stolen session must not become a way to guess the password: failed checks
        // of the current one count against the account like failed logins.
        self.login_throttle.check_account(&staff.email)?;
        let stored = staff.password_hash.clone();
        let (current, new) = (current.to_owned(), new.to_owned());
        let hashed = tokio::task::spawn_blocking(move || {
            if verify_password(&current, &stored) {
                hash_password(&new).map(Some)
            } else {
                Ok(None)
            }
        })
        .await
        .map_err(|e| Error::Internal(format!("password change: {e}")))??;
        let Some(hash) = hashed else {
            return Err(Error::invalid(
                "wrong_password",
                "Uw huidige wachtwoord klopt niet.",
            ));
        };
        self.login_throttle.account_succeeded(&staff.email);
        let now = self.now();
        let tx = self.store.begin_write().await?;
        people::set_own_password_hash(&*tx, &staff, &hash, now).await?;
        sessions::delete_other_staff_sessions(&*tx, staff.id, auth.session_id).await?;
        for m in actor.municipality_ids() {
            audit::append(
                &*tx,
                ctx.entry(
                    Some(m),
                    "staff.password",
                    "staff_user",
                    staff.id.to_string(),
                    serde_json::json!({}),
                ),
                now,
            )
            .await?;
        }
        tx.commit().await?;
        self.ring_person(super::Person::Staff(staff.id));
        tracing::info!(staff.id = staff.id, "staff password changed");
        Ok(())
    }

    /// Ends a session.
    pub async fn logout(&self, auth: &Authenticated) -> Result<()> {
        sessions::delete(self.store.db(), auth.session_id).await?;
        self.ring_person(super::Person::of(&auth.actor));
        Ok(())
    }

    async fn panelist_actor(&self, id: i64) -> Result<Option<PanelistActor>> {
        let db = self.store.db();
        let Some(p) = people::panelist_by_id(db, id).await? else {
            return Ok(None);
        };
        // Someone who left the panel is nobody here any more, whatever session survived.
        if p.left_at.is_some() {
            return Ok(None);
        }
        let Some(panel) = people::panel_by_id(db, p.panel_id).await? else {
            return Ok(None);
        };
        Ok(Some(PanelistActor {
            id: p.id,
            panel_id: p.panel_id,
            municipality_id: panel.municipality_id,
            pseudonym: p.pseudonym,
            suspended_until: p.suspended_until,
            suspended_reason: p.suspended_reason,
        }))
    }

    /// The staff actor with all roles, or `None` if unknown or disabled.
    pub async fn staff_actor(&self, id: i64) -> Result<Option<StaffActor>> {
        let db = self.store.db();
        let Some(s) = people::staff_by_id(db, id).await? else {
            return Ok(None);
        };
        if s.disabled {
            return Ok(None);
        }
        let roles = people::roles_of_staff(db, id)
            .await?
            .into_iter()
            .filter_map(|(r, m)| {
                Some(StaffRole {
                    municipality_id: m.id,
                    municipality: m.slug,
                    role: Role::parse(&r.role)?,
                })
            })
            .collect();
        Ok(Some(StaffActor {
            id: s.id,
            email: s.email,
            name: s.name,
            roles,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_verify_and_dummy_hash_parses() {
        let h = hash_password("correct horse battery").expect("hash");
        assert!(verify_password("correct horse battery", &h));
        assert!(!verify_password("wrong", &h));
        assert!(PasswordHash::new(DUMMY_HASH).is_ok());
        assert!(!verify_password("anything", DUMMY_HASH));
    }
}

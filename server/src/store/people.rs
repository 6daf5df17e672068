//! Tenants and the people in them: municipalities, panels, panelists and staff with their
//! roles.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder,
};

use super::entities::{municipality, panel, panelist, staff_invitation, staff_role, staff_user};

/// Looks up a municipality by slug.
#[tracing::instrument(skip(db))]
pub async fn municipality_by_slug<C: ConnectionTrait>(
    db: &C,
    slug: &str,
) -> Result<Option<municipality::Model>, DbErr> {
    municipality::Entity::find()
        .filter(municipality::Column::Slug.eq(slug))
        .one(db)
        .await
}

/// Looks up a municipality by id.
pub async fn municipality_by_id<C: ConnectionTrait>(
    db: &C,
    id: i64,
) -> Result<Option<municipality::Model>, DbErr> {
    municipality::Entity::find_by_id(id).one(db).await
}

/// How many municipalities exist (zero on a fresh installation).
pub async fn count_municipalities<C: ConnectionTrait>(db: &C) -> Result<u64, DbErr> {
    municipality::Entity::find().count(db).await
}

/// Creates a municipality.
pub async fn insert_municipality<C: ConnectionTrait>(
    db: &C,
    slug: &str,
    name: &str,
    now: DateTime<Utc>,
) -> Result<municipality::Model, DbErr> {
    municipality::ActiveModel {
        slug: Set(slug.to_owned()),
        name: Set(name.to_owned()),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await
}

/// Creates a panel in a municipality.
pub async fn insert_panel<C: ConnectionTrait>(
    db: &C,
    municipality_id: i64,
    slug: &str,
    name: &str,
    now: DateTime<Utc>,
) -> Result<panel::Model, DbErr> {
    panel::ActiveModel {
        municipality_id: Set(municipality_id),
        slug: Set(slug.to_owned()),
        name: Set(name.to_owned()),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await
}

/// Looks up a panel by slug.
#[tracing::instrument(skip(db))]
pub async fn panel_by_slug<C: ConnectionTrait>(
    db: &C,
    slug: &str,
) -> Result<Option<panel::Model>, DbErr> {
    panel::Entity::find()
        .filter(panel::Column::Slug.eq(slug))
        .one(db)
        .await
}

/// Looks up a panel by id.
pub async fn panel_by_id<C: ConnectionTrait>(
    db: &C,
    id: i64,
) -> Result<Option<panel::Model>, DbErr> {
    panel::Entity::find_by_id(id).one(db).await
}

/// Panels of a municipality, by slug.
pub async fn panels_of_municipality<C: ConnectionTrait>(
    db: &C,
    municipality_id: i64,
) -> Result<Vec<panel::Model>, DbErr> {
    panel::Entity::find()
        .filter(panel::Column::MunicipalityId.eq(municipality_id))
        .order_by_asc(panel::Column::Slug)
        .all(db)
        .await
}

/// A new panelist to store: the invite code arrives already hashed.
pub struct NewPanelist<'a> {
    /// Panel the panelist belongs to.
    pub panel_id: i64,
    /// Name shown next to their posts.
    pub pseudonym: &'a str,
    /// Hash of the invite code (see `domain::secrets::hash_invite_code`).
    pub invite_code_hash: &'a str,
}

/// Creates a panelist.
pub async fn insert_panelist<C: ConnectionTrait>(
    db: &C,
    new: NewPanelist<'_>,
    now: DateTime<Utc>,
) -> Result<panelist::Model, DbErr> {
    panelist::ActiveModel {
        panel_id: Set(new.panel_id),
        pseudonym: Set(new.pseudonym.to_owned()),
        invite_code_hash: Set(new.invite_code_hash.to_owned()),
        profile_consent: Set(false),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await
}

/// Looks up a panelist by the hash of their invite code.
pub async fn panelist_by_code_hash<C: ConnectionTrait>(
    db: &C,
    code_hash: &str,
) -> Result<Option<panelist::Model>, DbErr> {
    panelist::Entity::find()
        .filter(panelist::Column::InviteCodeHash.eq(code_hash))
        .one(db)
        .await
}

/// Looks up a panelist by id.
pub async fn panelist_by_id<C: ConnectionTrait>(
    db: &C,
    id: i64,
) -> Result<Option<panelist::Model>, DbErr> {
    panelist::Entity::find_by_id(id).one(db).await
}

/// The panelists with these ids.
pub async fn panelists_by_ids<C: ConnectionTrait>(
    db: &C,
    ids: &[i64],
) -> Result<Vec<panelist::Model>, DbErr> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    panelist::Entity::find()
        .filter(panelist::Column::Id.is_in(ids.iter().copied()))
        .all(db)
        .await
}

/// Records a login: first and last login times.
pub async fn touch_panelist_login<C: ConnectionTrait>(
    db: &C,
    p: &panelist::Model,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    let mut am: panelist::ActiveModel = p.clone().into();
    if p.first_login_at.is_none() {
        am.first_login_at = Set(Some(now));
    }
    am.last_login_at = Set(Some(now));
    am.update(db).await.map(|_| ())
}

/// Pseudonyms already used in a panel (to keep new ones distinct).
pub async fn pseudonym_taken<C: ConnectionTrait>(
    db: &C,
    panel_id: i64,
    pseudonym: &str,
) -> Result<bool, DbErr> {
    Ok(panelist::Entity::find()
        .filter(panelist::Column::PanelId.eq(panel_id))
        .filter(panelist::Column::Pseudonym.eq(pseudonym))
        .count(db)
        .await?
        > 0)
}

/// Creates a staff account.
pub async fn insert_staff<C: ConnectionTrait>(
    db: &C,
    email: &str,
    name: &str,
    password_hash: &str,
    now: DateTime<Utc>,
) -> Result<staff_user::Model, DbErr> {
    staff_user::ActiveModel {
        email: Set(email.to_owned()),
        name: Set(name.to_owned()),
        password_hash: Set(password_hash.to_owned()),
        disabled: Set(false),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await
}

/// Looks up a staff account by e-mail address (stored lower-case).
pub async fn staff_by_email<C: ConnectionTrait>(
    db: &C,
    email: &str,
) -> Result<Option<staff_user::Model>, DbErr> {
    staff_user::Entity::find()
        .filter(staff_user::Column::Email.eq(email))
        .one(db)
        .await
}

/// Looks up a staff account by id.
pub async fn staff_by_id<C: ConnectionTrait>(
    db: &C,
    id: i64,
) -> Result<Option<staff_user::Model>, DbErr> {
    staff_user::Entity::find_by_id(id).one(db).await
}

/// Records a staff login.
pub async fn touch_staff_login<C: ConnectionTrait>(
    db: &C,
    s: &staff_user::Model,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    let mut am: staff_user::ActiveModel = s.clone().into();
    am.last_login_at = Set(Some(now));
    am.update(db).await.map(|_| ())
}

/// Grants a role in a municipality (no-op if already granted).
pub async fn grant_role<C: ConnectionTrait>(
    db: &C,
    staff_id: i64,
    municipality_id: i64,
    role: &str,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    let exists = staff_role::Entity::find()
        .filter(staff_role::Column::StaffId.eq(staff_id))
        .filter(staff_role::Column::MunicipalityId.eq(municipality_id))
        .filter(staff_role::Column::Role.eq(role))
        .count(db)
        .await?
        > 0;
    if !exists {
        staff_role::ActiveModel {
            staff_id: Set(staff_id),
            municipality_id: Set(municipality_id),
            role: Set(role.to_owned()),
            created_at: Set(now),
            ..Default::default()
        }
        .insert(db)
        .await?;
    }
    Ok(())
}

/// Every role of a staff member, with the municipality it holds in.
pub async fn roles_of_staff<C: ConnectionTrait>(
    db: &C,
    staff_id: i64,
) -> Result<Vec<(staff_role::Model, municipality::Model)>, DbErr> {
    let roles = staff_role::Entity::find()
        .filter(staff_role::Column::StaffId.eq(staff_id))
        .order_by_asc(staff_role::Column::Id)
        .all(db)
        .await?;
    let ids: Vec<i64> = roles.iter().map(|r| r.municipality_id).collect();
    let municipalities = municipality::Entity::find()
        .filter(municipality::Column::Id.is_in(ids))
        .all(db)
        .await?;
    Ok(roles
        .into_iter()
        .filter_map(|r| {
            let m = municipalities
                .iter()
                .find(|m| m.id == r.municipality_id)?
                .clone();
            Some((r, m))
        })
        .collect())
}

/// Stores a municipality's contact for residents.
pub async fn set_contact<C: ConnectionTrait>(
    db: &C,
    m: &municipality::Model,
    phone: Option<&str>,
    email: Option<&str>,
    hours: Option<&str>,
) -> Result<municipality::Model, DbErr> {
    let mut am: municipality::ActiveModel = m.clone().into();
    am.contact_phone = Set(phone.map(str::to_owned));
    am.contact_email = Set(email.map(str::to_owned));
    am.contact_hours = Set(hours.map(str::to_owned));
    am.update(db).await
}

/// Records that a panelist accepted the house rules, unless they already had.
pub async fn accept_house_rules<C: ConnectionTrait>(
    db: &C,
    panelist_id: i64,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    panelist::Entity::update_many()
        .col_expr(
            panelist::Column::HouseRulesAcceptedAt,
            sea_orm::sea_query::Expr::value(now),
        )
        .filter(panelist::Column::Id.eq(panelist_id))
        .filter(panelist::Column::HouseRulesAcceptedAt.is_null())
        .exec(db)
        .await
        .map(|_| ())
}

/// Stores a municipality's moderation word lists (newline separated) and flag threshold.
pub async fn set_moderation_policy<C: ConnectionTrait>(
    db: &C,
    m: &municipality::Model,
    banned_words: &str,
    suspect_words: &str,
    flag_threshold: i32,
) -> Result<(), DbErr> {
    let mut am: municipality::ActiveModel = m.clone().into();
    am.banned_words = Set(Some(banned_words.to_owned()).filter(|w| !w.is_empty()));
    am.suspect_words = Set(Some(suspect_words.to_owned()).filter(|w| !w.is_empty()));
    am.flag_threshold = Set(flag_threshold);
    am.update(db).await.map(|_| ())
}

/// Every panelist on the given panels.
pub async fn panelists_of_panels<C: ConnectionTrait>(
    db: &C,
    panel_ids: &[i64],
) -> Result<Vec<panelist::Model>, DbErr> {
    panelist::Entity::find()
        .filter(panelist::Column::PanelId.is_in(panel_ids.iter().copied()))
        .all(db)
        .await
}

/// Stores a panelist's consented profile (all `None` and `consent` false to withdraw).
#[tracing::instrument(skip(db, p), fields(panelist.id = p.id))]
pub async fn set_profile<C: ConnectionTrait>(
    db: &C,
    p: &panelist::Model,
    consent: bool,
    age_band: Option<String>,
    district: Option<String>,
    wmo_experience: Option<String>,
) -> Result<panelist::Model, DbErr> {
    let mut am: panelist::ActiveModel = p.clone().into();
    am.profile_consent = Set(consent);
    am.age_band = Set(age_band);
    am.district = Set(district);
    am.wmo_experience = Set(wmo_experience);
    am.update(db).await
}

/// How many panelists a panel has.
pub async fn count_panelists_of_panel<C: ConnectionTrait>(
    db: &C,
    panel_id: i64,
) -> Result<u64, DbErr> {
    panelist::Entity::find()
        .filter(panelist::Column::PanelId.eq(panel_id))
        .count(db)
        .await
}

/// Every role granted in a municipality, oldest first.
pub async fn roles_in_municipality<C: ConnectionTrait>(
    db: &C,
    municipality_id: i64,
) -> Result<Vec<staff_role::Model>, DbErr> {
    staff_role::Entity::find()
        .filter(staff_role::Column::MunicipalityId.eq(municipality_id))
        .order_by_asc(staff_role::Column::Id)
        .all(db)
        .await
}

/// Takes a role away; whether there was one to take.
pub async fn revoke_role<C: ConnectionTrait>(
    db: &C,
    staff_id: i64,
    municipality_id: i64,
    role: &str,
) -> Result<bool, DbErr> {
    let res = staff_role::Entity::delete_many()
        .filter(staff_role::Column::StaffId.eq(staff_id))
        .filter(staff_role::Column::MunicipalityId.eq(municipality_id))
        .filter(staff_role::Column::Role.eq(role))
        .exec(db)
        .await?;
    Ok(res.rows_affected > 0)
}

/// Replaces a staff member's password hash with one of a password they chose themselves
/// (`password_chosen_at` becomes `now`).
#[tracing::instrument(skip(db, s, password_hash), fields(staff.id = s.id))]
pub async fn set_own_password_hash<C: ConnectionTrait>(
    db: &C,
    s: &staff_user::Model,
    password_hash: &str,
    now: DateTime<Utc>,
) -> Result<staff_user::Model, DbErr> {
    let mut am: staff_user::ActiveModel = s.clone().into();
    am.password_hash = Set(password_hash.to_owned());
    am.password_chosen_at = Set(Some(now));
    am.update(db).await
}

/// Whether a staff member holds any role in a municipality.
pub async fn has_role_in<C: ConnectionTrait>(
    db: &C,
    staff_id: i64,
    municipality_id: i64,
) -> Result<bool, DbErr> {
    Ok(staff_role::Entity::find()
        .filter(staff_role::Column::StaffId.eq(staff_id))
        .filter(staff_role::Column::MunicipalityId.eq(municipality_id))
        .count(db)
        .await?
        > 0)
}

/// A role offered to an existing account, to store.
pub struct NewStaffInvitation<'a> {
    /// The account offered the role.
    pub staff_id: i64,
    /// Where.
    pub municipality_id: i64,
    /// Which role (`admin`, `moderator`, `analyst`).
    pub role: &'a str,
    /// SHA-256 of the acceptance code (see `domain::secrets::hash_invite_code`).
    pub code_hash: &'a str,
    /// The admin who offered it (`None`: the command line).
    pub invited_by: Option<i64>,
    /// Until when it can be accepted.
    pub expires_at: DateTime<Utc>,
}

/// Stores an invitation, replacing an earlier one for the same account, municipality
/// and role (whose code is then void).
#[tracing::instrument(skip(db, new), fields(staff.id = new.staff_id, municipality.id = new.municipality_id))]
pub async fn replace_staff_invitation<C: ConnectionTrait>(
    db: &C,
    new: NewStaffInvitation<'_>,
    now: DateTime<Utc>,
) -> Result<staff_invitation::Model, DbErr> {
    staff_invitation::Entity::delete_many()
        .filter(staff_invitation::Column::StaffId.eq(new.staff_id))
        .filter(staff_invitation::Column::MunicipalityId.eq(new.municipality_id))
        .filter(staff_invitation::Column::Role.eq(new.role))
        .exec(db)
        .await?;
    staff_invitation::ActiveModel {
        staff_id: Set(new.staff_id),
        municipality_id: Set(new.municipality_id),
        role: Set(new.role.to_owned()),
        code_hash: Set(new.code_hash.to_owned()),
        invited_by: Set(new.invited_by),
        created_at: Set(now),
        expires_at: Set(new.expires_at),
        ..Default::default()
    }
    .insert(db)
    .await
}

/// Looks up an invitation by id.
pub async fn staff_invitation_by_id<C: ConnectionTrait>(
    db: &C,
    id: i64,
) -> Result<Option<staff_invitation::Model>, DbErr> {
    staff_invitation::Entity::find_by_id(id).one(db).await
}

/// The invitations waiting for one account, oldest first, with their municipalities.
pub async fn staff_invitations_of_staff<C: ConnectionTrait>(
    db: &C,
    staff_id: i64,
) -> Result<Vec<(staff_invitation::Model, municipality::Model)>, DbErr> {
    let invitations = staff_invitation::Entity::find()
        .filter(staff_invitation::Column::StaffId.eq(staff_id))
        .order_by_asc(staff_invitation::Column::Id)
        .all(db)
        .await?;
    let ids: Vec<i64> = invitations.iter().map(|i| i.municipality_id).collect();
    let municipalities = municipality::Entity::find()
        .filter(municipality::Column::Id.is_in(ids))
        .all(db)
        .await?;
    Ok(invitations
        .into_iter()
        .filter_map(|i| {
            let m = municipalities
                .iter()
                .find(|m| m.id == i.municipality_id)?
                .clone();
            Some((i, m))
        })
        .collect())
}

/// The invitations a municipality has out, oldest first, with the invited address.
pub async fn staff_invitations_in_municipality<C: ConnectionTrait>(
    db: &C,
    municipality_id: i64,
) -> Result<Vec<(staff_invitation::Model, String)>, DbErr> {
    let invitations = staff_invitation::Entity::find()
        .filter(staff_invitation::Column::MunicipalityId.eq(municipality_id))
        .order_by_asc(staff_invitation::Column::Id)
        .all(db)
        .await?;
    let ids: Vec<i64> = invitations.iter().map(|i| i.staff_id).collect();
    let accounts = staff_user::Entity::find()
        .filter(staff_user::Column::Id.is_in(ids))
        .all(db)
        .await?;
    Ok(invitations
        .into_iter()
        .filter_map(|i| {
            let email = accounts.iter().find(|s| s.id == i.staff_id)?.email.clone();
            Some((i, email))
        })
        .collect())
}

/// Deletes an invitation (accepted or withdrawn); whether there was one.
pub async fn delete_staff_invitation<C: ConnectionTrait>(db: &C, id: i64) -> Result<bool, DbErr> {
    let res = staff_invitation::Entity::delete_by_id(id).exec(db).await?;
    Ok(res.rows_affected > 0)
}

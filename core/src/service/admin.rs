//! Organisations and users.

use super::auth::actor_of;
use super::{Actor, Result, ServiceError, Services};
use crate::crypto;
use crate::domain::{self, CountryCode, Email, Invalid, NewPassword, OrgKind, Role};
use crate::store::First;
use crate::store::begin_write;
use crate::store::entity::{organisation, session, user};
use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, IntoActiveModel, PaginatorTrait,
    QueryFilter, QueryOrder,
};

#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct OrgView {
    pub id: i64,
    pub name: String,
    pub kind: OrgKind,
    pub country: String,
    pub active: bool,
    /// Its cases are counted in the k-anonymised statistics export (its administrator
    /// opts in; off until then).
    pub statistics_opt_in: bool,
    /// Every user of the organisation signs in with a second factor.
    pub require_two_factor: bool,
}

#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct UserView {
    pub id: i64,
    pub org_id: i64,
    pub org_name: String,
    pub email: String,
    pub display_name: String,
    pub role: Role,
    pub active: bool,
}

pub struct NewOrg<'a> {
    pub name: &'a str,
    pub kind: &'a str,
    pub country: &'a str,
}

pub struct NewUser<'a> {
    pub org_id: i64,
    pub email: &'a str,
    pub display_name: &'a str,
    pub role: &'a str,
    pub password: &'a str,
}

fn org_view(o: organisation::Model) -> Result<OrgView> {
    Ok(OrgView {
        kind: OrgKind::parse(&o.kind)
            .map_err(|e| ServiceError::Unexpected(anyhow::anyhow!("stored kind: {e}")))?,
        id: o.id,
        name: o.name,
        country: o.country,
        active: o.active,
        statistics_opt_in: o.statistics_opt_in,
        require_two_factor: o.require_two_factor,
    })
}

impl Services {
    /// Create an organisation. `actor` None means the command line (an operator on the host).
    pub async fn create_org(&self, actor: Option<&Actor>, new: NewOrg<'_>) -> Result<OrgView> {
        if let Some(a) = actor
            && a.role != Role::SystemAdmin
        {
            return Err(ServiceError::Forbidden(
                "only a system administrator can create organisations".into(),
            ));
        }
        let name = domain::parse_line("name", new.name, 200)?;
        let kind = OrgKind::parse(new.kind)?;
        let country = CountryCode::parse(new.country)?;
        let txn = begin_write(&self.db).await?;
        if organisation::Entity::find()
            .filter(organisation::Column::Name.eq(&name))
            .first(&txn)
            .await?
            .is_some()
        {
            return Err(ServiceError::Conflict(format!(
                "an organisation named '{name}' already exists"
            )));
        }
        let m = organisation::ActiveModel {
            name: Set(name),
            kind: Set(kind.as_str().into()),
            country: Set(country.as_str().into()),
            active: Set(true),
            created_at: Set(Utc::now()),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        super::keys::create_org_key_in(&txn, &self.keys, m.id).await?;
        txn.commit().await?;
        org_view(m)
    }

    pub async fn list_orgs(&self) -> Result<Vec<OrgView>> {
        organisation::Entity::find()
            .order_by_asc(organisation::Column::Name)
            .all(&self.db)
            .await?
            .into_iter()
            .map(org_view)
            .collect()
    }

    pub async fn org(&self, id: i64) -> Result<OrgView> {
        org_view(
            organisation::Entity::find_by_id(id)
                .first(&self.db)
                .await?
                .ok_or(ServiceError::NotFound("organisation"))?,
        )
    }

    /// Count the organisation's cases in the k-anonymised statistics export, or stop:
    /// its own administrator's decision, for their organisation only (another
    /// organisation is "not found").
    pub async fn set_statistics_opt_in(
        &self,
        actor: &Actor,
        org_id: i64,
        opt_in: bool,
    ) -> Result<OrgView> {
        if actor.role != Role::OrgAdmin {
            return Err(ServiceError::Forbidden(
                "only the organisation's administrator decides whether its cases are counted in the statistics export".into(),
            ));
        }
        if org_id != actor.org_id {
            return Err(ServiceError::NotFound("organisation"));
        }
        let txn = begin_write(&self.db).await?;
        let org = organisation::Entity::find_by_id(org_id)
            .first(&txn)
            .await?
            .ok_or(ServiceError::NotFound("organisation"))?;
        let mut a = org.into_active_model();
        a.statistics_opt_in = Set(opt_in);
        let m = a.update(&txn).await?;
        txn.commit().await?;
        tracing::info!(org_id, opt_in, "statistics opt-in changed");
        org_view(m)
    }

    /// Require a second factor of every user of the organisation, or only of the roles
    /// the configuration names: its own administrator's decision, as the opt-in above.
    pub async fn set_require_two_factor(
        &self,
        actor: &Actor,
        org_id: i64,
        required: bool,
    ) -> Result<OrgView> {
        if actor.role != Role::OrgAdmin {
            return Err(ServiceError::Forbidden(
                "only the organisation's administrator decides whether all its users need a second factor".into(),
            ));
        }
        if org_id != actor.org_id {
            return Err(ServiceError::NotFound("organisation"));
        }
        let txn = begin_write(&self.db).await?;
        let org = organisation::Entity::find_by_id(org_id)
            .first(&txn)
            .await?
            .ok_or(ServiceError::NotFound("organisation"))?;
        let mut a = org.into_active_model();
        a.require_two_factor = Set(required);
        let m = a.update(&txn).await?;
        txn.commit().await?;
        tracing::info!(
            org_id,
            required,
            "second factor required of all users or not"
        );
        org_view(m)
    }

    pub async fn count_orgs(&self) -> Result<u64> {
        Ok(organisation::Entity::find().count(&self.db).await?)
    }

    /// Create a user. `actor` None means the command line.
    pub async fn create_user(&self, actor: Option<&Actor>, new: NewUser<'_>) -> Result<UserView> {
        let role = Role::parse(new.role)?;
        if let Some(a) = actor
            && !domain::may_administer_users(a.role, a.org_id, new.org_id, role)
        {
            return Err(ServiceError::Forbidden(
                "you may only add users to your own organisation, and not as system administrators"
                    .into(),
            ));
        }
        let email = Email::parse(new.email)?;
        let display_name = domain::parse_line("display_name", new.display_name, 200)?;
        // No password: an invitation. The account gets a random password nobody knows and
        // a sign-in link by e-mail to choose one (30 minutes, single use).
        let invite = new.password.is_empty();
        let random;
        let password = NewPassword::parse(if invite {
            random = crate::crypto::random_token(32)?;
            &random
        } else {
            new.password
        })?;
        let org = organisation::Entity::find_by_id(new.org_id)
            .first(&self.db)
            .await?
            .ok_or_else(|| Invalid::new("org_id", "no such organisation"))?;
        let secret = password.secret().clone();
        let hash = tokio::task::spawn_blocking(move || crypto::hash_password(&secret))
            .await
            .map_err(|e| anyhow::anyhow!("hashing task failed: {e}"))??;
        let txn = begin_write(&self.db).await?;
        if user::Entity::find()
            .filter(user::Column::Email.eq(email.as_str()))
            .first(&txn)
            .await?
            .is_some()
        {
            return Err(ServiceError::Conflict(
                "a user with this e-mail already exists".into(),
            ));
        }
        let u = user::ActiveModel {
            org_id: Set(org.id),
            email: Set(email.as_str().into()),
            display_name: Set(display_name),
            role: Set(role.as_str().into()),
            password_hash: Set(hash),
            active: Set(true),
            created_at: Set(Utc::now()),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        if invite {
            self.send_signin_link(&txn, &u, "invitation").await?;
        }
        txn.commit().await?;
        Ok(UserView {
            id: u.id,
            org_id: u.org_id,
            org_name: org.name,
            email: u.email,
            display_name: u.display_name,
            role,
            active: u.active,
        })
    }

    /// Users the actor may administer: all for a system administrator, their own
    /// organisation's for an organisation administrator.
    pub async fn list_users(&self, actor: &Actor) -> Result<Vec<UserView>> {
        let mut q = user::Entity::find().order_by_asc(user::Column::Email);
        match actor.role {
            Role::SystemAdmin => {}
            Role::OrgAdmin => q = q.filter(user::Column::OrgId.eq(actor.org_id)),
            _ => {
                return Err(ServiceError::Forbidden(
                    "only administrators can list users".into(),
                ));
            }
        }
        let orgs: std::collections::HashMap<i64, String> = organisation::Entity::find()
            .all(&self.db)
            .await?
            .into_iter()
            .map(|o| (o.id, o.name))
            .collect();
        q.all(&self.db)
            .await?
            .into_iter()
            .map(|u| {
                let a = actor_of(&u)?;
                Ok(UserView {
                    id: u.id,
                    org_id: u.org_id,
                    org_name: orgs.get(&u.org_id).cloned().unwrap_or_default(),
                    email: u.email,
                    display_name: u.display_name,
                    role: a.role,
                    active: u.active,
                })
            })
            .collect()
    }

    /// Users of an organisation who may be assigned as advocates.
    pub async fn advocates_of(&self, org_id: i64) -> Result<Vec<(i64, String)>> {
        Ok(user::Entity::find()
            .filter(user::Column::OrgId.eq(org_id))
            .filter(user::Column::Role.eq(Role::Advocate.as_str()))
            .filter(user::Column::Active.eq(true))
            .order_by_asc(user::Column::DisplayName)
            .all(&self.db)
            .await?
            .into_iter()
            .map(|u| (u.id, u.display_name))
            .collect())
    }

    /// Change another user's role or active flag. Nobody changes their own role or
    /// organisation; disabling a user ends their sessions at once. An administrator who
    /// signs in with a second factor changes a role only within five minutes of giving
    /// the password and a code again in `session_id` (`Services::reauthenticate`).
    pub async fn update_user(
        &self,
        actor: &Actor,
        session_id: i64,
        user_id: i64,
        role: Option<&str>,
        active: Option<bool>,
    ) -> Result<()> {
        let txn = begin_write(&self.db).await?;
        let target = user::Entity::find_by_id(user_id)
            .first(&txn)
            .await?
            .ok_or(ServiceError::NotFound("user"))?;
        let current_role = actor_of(&target)?.role;
        let new_role = match role {
            Some(r) => Role::parse(r)?,
            None => current_role,
        };
        if target.id == actor.user_id && (new_role != current_role || active == Some(false)) {
            return Err(ServiceError::Forbidden(
                "you cannot change your own role or disable your own account; ask another administrator".into(),
            ));
        }
        if !domain::may_administer_users(actor.role, actor.org_id, target.org_id, current_role) {
            return Err(ServiceError::NotFound("user"));
        }
        if !domain::may_administer_users(actor.role, actor.org_id, target.org_id, new_role) {
            return Err(ServiceError::Forbidden(format!(
                "you may not give the role {}",
                new_role.as_str()
            )));
        }
        if new_role != current_role
            && user::Entity::find_by_id(actor.user_id)
                .first(&txn)
                .await?
                .is_some_and(|u| u.totp_enabled_at.is_some())
            && self.reauthenticated_until(session_id).await?.is_none()
        {
            return Err(ServiceError::Forbidden(
                "give your password and a code again before changing a role (POST /api/v1/session/reauth, or the form at the top of the users' page)".into(),
            ));
        }
        let disable = active == Some(false);
        let mut a = target.into_active_model();
        a.role = Set(new_role.as_str().into());
        if let Some(v) = active {
            a.active = Set(v);
        }
        a.update(&txn).await?;
        if disable {
            session::Entity::delete_many()
                .filter(session::Column::UserId.eq(user_id))
                .exec(&txn)
                .await?;
        }
        txn.commit().await?;
        Ok(())
    }

    /// Change one's own display name or password: the only self-editable fields.
    pub async fn update_self(
        &self,
        actor: &Actor,
        display_name: Option<&str>,
        password: Option<&str>,
    ) -> Result<()> {
        let name = display_name
            .map(|n| domain::parse_line("display_name", n, 200))
            .transpose()?;
        let hash = match password {
            Some(p) => {
                let secret = NewPassword::parse(p)?.secret().clone();
                Some(
                    tokio::task::spawn_blocking(move || crypto::hash_password(&secret))
                        .await
                        .map_err(|e| anyhow::anyhow!("hashing task failed: {e}"))??,
                )
            }
            None => None,
        };
        let txn = begin_write(&self.db).await?;
        let me = user::Entity::find_by_id(actor.user_id)
            .first(&txn)
            .await?
            .ok_or(ServiceError::NotFound("user"))?;
        let mut a = me.into_active_model();
        if let Some(n) = name {
            a.display_name = Set(n);
        }
        if let Some(h) = hash {
            a.password_hash = Set(h);
        }
        a.update(&txn).await?;
        txn.commit().await?;
        Ok(())
    }

    pub async fn user_by_email(&self, email: &str) -> Result<Option<Actor>> {
        let email = Email::parse(email)?;
        user::Entity::find()
            .filter(user::Column::Email.eq(email.as_str()))
            .first(&self.db)
            .await?
            .map(|u| actor_of(&u))
            .transpose()
    }
}

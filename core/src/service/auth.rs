//! Sign-in, server-side sessions, lockout.

use super::{Actor, Result, ServiceError, Services};
use crate::crypto::{self, random_token, sha256_hex};
use crate::domain::{Email, Role};
use crate::store::First;
use crate::store::begin_write;
use crate::store::entity::{login_throttle, organisation, session, user};
use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, FromQueryResult, IntoActiveModel,
    JoinType, QueryFilter, QuerySelect,
};
use secrecy::SecretString;

/// Why sign-in failed. Deliberately the same message whether or not the account exists.
#[derive(Debug, thiserror::Error)]
pub enum LoginError {
    #[error("e-mail or password is incorrect, or the account is locked or disabled")]
    Rejected,
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

/// A new session: the token goes in the cookie, only its hash is stored.
pub struct NewSession {
    pub token: SecretString,
    pub csrf_token: String,
    pub actor: Actor,
    /// The account has a second factor: the session opens nothing until its code is
    /// given (`Services::second_factor`).
    pub second_factor_pending: bool,
}

/// A session found from its cookie token.
#[derive(Debug, Clone)]
pub struct CurrentSession {
    pub session_id: i64,
    pub csrf_token: String,
    pub actor: Actor,
    /// The account must have a second factor and has none yet: until it enrols, the
    /// session opens only the enrolment (and signing out).
    pub two_factor_missing: bool,
}

/// A session row with its user's and organisation's columns; those are `None` when the
/// user or organisation row is missing (left joins).
#[derive(Debug, FromQueryResult)]
struct SessionRow {
    id: i64,
    user_id: i64,
    csrf_token: String,
    created_at: DateTime<Utc>,
    last_seen_at: DateTime<Utc>,
    u_id: Option<i64>,
    u_org_id: Option<i64>,
    u_email: Option<String>,
    u_display_name: Option<String>,
    u_role: Option<String>,
    u_active: Option<bool>,
    u_totp_enabled_at: Option<DateTime<Utc>>,
    org_active: Option<bool>,
    org_require_two_factor: Option<bool>,
    second_factor_pending: bool,
}

/// How long a re-authentication holds (the password given again in a session).
pub const REAUTH_WINDOW: chrono::Duration = chrono::Duration::minutes(5);

/// A fixed Argon2id hash to verify against when the account does not exist,
/// so both cases take the same time.
static DUMMY_HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();

fn dummy_hash() -> String {
    DUMMY_HASH
        .get_or_init(|| {
            crypto::hash_password(&SecretString::from("not-a-real-password")).unwrap_or_default()
        })
        .clone()
}

impl Services {
    fn throttle_key(&self, email: &str) -> String {
        self.keys.blind_index("login", email)
    }

    pub async fn login(
        &self,
        email: &str,
        password: SecretString,
    ) -> Result<NewSession, LoginError> {
        let unexpected = |e: ServiceError| LoginError::Unexpected(anyhow::anyhow!(e.to_string()));
        let email_norm = Email::parse(email)
            .map(|e| e.as_str().to_owned())
            .unwrap_or_else(|_| email.trim().to_lowercase());
        let key = self.throttle_key(&email_norm);
        let now = Utc::now();

        let locked = login_throttle::Entity::find_by_id(key.clone())
            .first(&self.db)
            .await
            .map_err(|e| unexpected(e.into()))?
            .and_then(|t| t.locked_until)
            .is_some_and(|until| until > now);

        let found = user::Entity::find()
            .filter(user::Column::Email.eq(&email_norm))
            .first(&self.db)
            .await
            .map_err(|e| unexpected(e.into()))?;
        let phc = found
            .as_ref()
            .map(|u| u.password_hash.clone())
            .unwrap_or_else(dummy_hash);
        // Argon2 is CPU-heavy: run it on the blocking pool, never on an executor thread.
        let ok = self
            .password_work(move || crypto::verify_password(&password, &phc))
            .await
            .map_err(LoginError::Unexpected)?;

        let org_active = match &found {
            Some(u) => organisation::Entity::find_by_id(u.org_id)
                .first(&self.db)
                .await
                .map_err(|e| unexpected(e.into()))?
                .is_some_and(|o| o.active),
            None => false,
        };
        let usable = found
            .as_ref()
            .filter(|u| u.active && org_active && ok && !locked);
        let Some(u) = usable else {
            if !locked {
                self.record_failure(&key).await.map_err(unexpected)?;
            }
            return Err(LoginError::Rejected);
        };
        let actor = actor_of(u).map_err(unexpected)?;
        let second_factor_pending = u.totp_enabled_at.is_some() && u.totp_secret_enc.is_some();

        let token = random_token(32).map_err(|e| unexpected(e.into()))?;
        let csrf = random_token(32).map_err(|e| unexpected(e.into()))?;
        let txn = begin_write(&self.db)
            .await
            .map_err(|e| unexpected(e.into()))?;
        login_throttle::Entity::delete_by_id(key)
            .exec(&txn)
            .await
            .map_err(|e| unexpected(e.into()))?;
        session::ActiveModel {
            token_hash: Set(sha256_hex(token.as_bytes())),
            user_id: Set(u.id),
            csrf_token: Set(csrf.clone()),
            created_at: Set(now),
            last_seen_at: Set(now),
            second_factor_pending: Set(second_factor_pending),
            ..Default::default()
        }
        .insert(&txn)
        .await
        .map_err(|e| unexpected(e.into()))?;
        txn.commit().await.map_err(|e| unexpected(e.into()))?;
        Ok(NewSession {
            token: SecretString::from(token),
            csrf_token: csrf,
            actor,
            second_factor_pending,
        })
    }

    pub(crate) fn throttle_key_of(&self, email: &str) -> String {
        self.throttle_key(&email.trim().to_lowercase())
    }

    pub(crate) async fn record_failure(&self, key: &str) -> Result<()> {
        let now = Utc::now();
        let p = &self.auth_policy;
        let txn = begin_write(&self.db).await?;
        let row = login_throttle::Entity::find_by_id(key.to_owned())
            .first(&txn)
            .await?;
        match row {
            None => {
                login_throttle::ActiveModel {
                    email_key: Set(key.to_owned()),
                    failures: Set(1),
                    window_start: Set(now),
                    locked_until: Set(None),
                }
                .insert(&txn)
                .await?;
            }
            Some(r) => {
                let in_window = now - r.window_start < p.failure_window;
                let failures = if in_window { r.failures + 1 } else { 1 };
                let mut a = r.into_active_model();
                if !in_window {
                    a.window_start = Set(now);
                }
                a.failures = Set(failures);
                if failures >= p.max_failures {
                    a.locked_until = Set(Some(now + p.lockout));
                    a.failures = Set(0);
                    a.window_start = Set(now);
                }
                a.update(&txn).await?;
            }
        }
        txn.commit().await?;
        Ok(())
    }

    /// Find the live session for a cookie token, applying idle and absolute timeouts.
    /// A disabled user or organisation has no live session. One query: the session with
    /// its user and the user's organisation (left joins, so that a missing user or
    /// organisation is told apart from a missing session, as before).
    pub async fn session(&self, token: &str) -> Result<Option<CurrentSession>> {
        let now = Utc::now();
        let Some(s) = session::Entity::find()
            .select_only()
            .column(session::Column::Id)
            .column(session::Column::UserId)
            .column(session::Column::CsrfToken)
            .column(session::Column::CreatedAt)
            .column(session::Column::LastSeenAt)
            .column_as(user::Column::Id, "u_id")
            .column_as(user::Column::OrgId, "u_org_id")
            .column_as(user::Column::Email, "u_email")
            .column_as(user::Column::DisplayName, "u_display_name")
            .column_as(user::Column::Role, "u_role")
            .column_as(user::Column::Active, "u_active")
            .column_as(user::Column::TotpEnabledAt, "u_totp_enabled_at")
            .column_as(organisation::Column::Active, "org_active")
            .column_as(
                organisation::Column::RequireTwoFactor,
                "org_require_two_factor",
            )
            .column(session::Column::SecondFactorPending)
            .join(
                JoinType::LeftJoin,
                session::Entity::belongs_to(user::Entity)
                    .from(session::Column::UserId)
                    .to(user::Column::Id)
                    .into(),
            )
            .join(
                JoinType::LeftJoin,
                user::Entity::belongs_to(organisation::Entity)
                    .from(user::Column::OrgId)
                    .to(organisation::Column::Id)
                    .into(),
            )
            .filter(session::Column::TokenHash.eq(sha256_hex(token.as_bytes())))
            .into_model::<SessionRow>()
            .first(&self.db)
            .await?
        else {
            return Ok(None);
        };
        let p = &self.auth_policy;
        if now - s.last_seen_at > p.idle_timeout || now - s.created_at > p.absolute_timeout {
            session::Entity::delete_by_id(s.id).exec(&self.db).await?;
            return Ok(None);
        }
        // Waiting for its second factor: not signed in yet.
        if s.second_factor_pending {
            return Ok(None);
        }
        let (Some(_), Some(org_id), Some(email), Some(display_name), Some(role), Some(active)) = (
            s.u_id,
            s.u_org_id,
            s.u_email,
            s.u_display_name,
            s.u_role,
            s.u_active,
        ) else {
            return Ok(None);
        };
        let org_active = s.org_active.unwrap_or(false);
        if !active || !org_active {
            session::Entity::delete_many()
                .filter(session::Column::UserId.eq(s.user_id))
                .exec(&self.db)
                .await?;
            return Ok(None);
        }
        // Touch at most once a minute, to keep reads cheap.
        if now - s.last_seen_at > chrono::Duration::seconds(60) {
            session::Entity::update_many()
                .col_expr(
                    session::Column::LastSeenAt,
                    sea_orm::sea_query::Expr::value(now),
                )
                .filter(session::Column::Id.eq(s.id))
                .exec(&self.db)
                .await?;
        }
        let role = stored_role(&role)?;
        let two_factor_missing = s.u_totp_enabled_at.is_none()
            && crate::two_factor::required(
                role,
                &p.two_factor_roles,
                s.org_require_two_factor.unwrap_or(false),
            );
        Ok(Some(CurrentSession {
            session_id: s.id,
            csrf_token: s.csrf_token,
            two_factor_missing,
            actor: Actor {
                user_id: s.user_id,
                org_id,
                role,
                display_name,
                email,
            },
        }))
    }

    /// Give the password again in a signed-in session: the session is re-authenticated for
    /// [`REAUTH_WINDOW`] (the HTCDS export of personal data asks for it). A wrong password
    /// counts as a failed sign-in of the account (six lock it, as at sign-in); while the
    /// account is locked no password is accepted. Answers until when it holds.
    pub async fn reauthenticate(
        &self,
        session_id: i64,
        actor: &Actor,
        password: SecretString,
        code: Option<&str>,
    ) -> Result<DateTime<Utc>> {
        let key = self.throttle_key(&actor.email.trim().to_lowercase());
        let now = Utc::now();
        let locked = login_throttle::Entity::find_by_id(key.clone())
            .first(&self.db)
            .await?
            .and_then(|t| t.locked_until)
            .is_some_and(|until| until > now);
        let found = user::Entity::find_by_id(actor.user_id)
            .first(&self.db)
            .await?
            .filter(|u| u.active);
        let phc = found
            .as_ref()
            .map(|u| u.password_hash.clone())
            .unwrap_or_else(dummy_hash);
        let ok = self
            .password_work(move || crypto::verify_password(&password, &phc))
            .await?;
        // With a second factor, its code too (a recovery code is not taken here).
        if ok
            && !locked
            && let Some(u) = found.as_ref().filter(|u| u.totp_enabled_at.is_some())
        {
            let Some(code) = code.map(str::trim).filter(|c| !c.is_empty()) else {
                return Err(crate::domain::Invalid::new(
                    "code",
                    "the code of your authenticator application is needed as well",
                )
                .into());
            };
            if !self.take_totp_code(u, code).await? {
                self.record_failure(&key).await?;
                return Err(crate::domain::Invalid::new(
                    "code",
                    "is not the current code of your authenticator application, or was already used",
                )
                .into());
            }
        }
        if !ok || locked {
            if !locked {
                self.record_failure(&key).await?;
            }
            return Err(crate::domain::Invalid::new(
                "password",
                "is not correct, or the account is locked after too many failed attempts",
            )
            .into());
        }
        let txn = begin_write(&self.db).await?;
        login_throttle::Entity::delete_by_id(key).exec(&txn).await?;
        let res = session::Entity::update_many()
            .col_expr(
                session::Column::ReauthAt,
                sea_orm::sea_query::Expr::value(now),
            )
            .filter(session::Column::Id.eq(session_id))
            .filter(session::Column::UserId.eq(actor.user_id))
            .exec(&txn)
            .await?;
        if res.rows_affected != 1 {
            return Err(ServiceError::NotFound("session"));
        }
        txn.commit().await?;
        tracing::info!(user_id = actor.user_id, "session re-authenticated");
        Ok(now + REAUTH_WINDOW)
    }

    /// Until when the session's last re-authentication holds, if it still does.
    pub async fn reauthenticated_until(&self, session_id: i64) -> Result<Option<DateTime<Utc>>> {
        let at = session::Entity::find_by_id(session_id)
            .first(&self.db)
            .await?
            .and_then(|s| s.reauth_at);
        let now = Utc::now();
        Ok(at
            .map(|t| t + REAUTH_WINDOW)
            .filter(|until| *until > now && at.is_some_and(|t| t <= now)))
    }

    pub async fn logout(&self, session_id: i64) -> Result<()> {
        session::Entity::delete_by_id(session_id)
            .exec(&self.db)
            .await?;
        Ok(())
    }
}

pub(crate) fn actor_of(u: &user::Model) -> Result<Actor> {
    Ok(Actor {
        user_id: u.id,
        org_id: u.org_id,
        role: stored_role(&u.role)?,
        display_name: u.display_name.clone(),
        email: u.email.clone(),
    })
}

fn stored_role(role: &str) -> Result<Role> {
    Role::parse(role).map_err(|e| ServiceError::Unexpected(anyhow::anyhow!("stored role: {e}")))
}

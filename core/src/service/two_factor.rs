//! Two-factor sign-in, the use cases (issue 15, point 1; the rules are in
//! `crate::two_factor`): enrolment (a secret kept encrypted while its first code is
//! awaited, then the secret of the account, and ten recovery codes shown once), the
//! second step of a sign-in, and the codes each used once (`totp_last_step` moves forward
//! in one conditional `UPDATE`, so two requests with the same code cannot both pass).

use super::auth::LoginError;
use super::{Actor, Result, ServiceError, Services};
use crate::crypto::{FieldLocation, random_bytes, sha256_hex};
use crate::domain::Invalid;
use crate::store::entity::{login_throttle, organisation, recovery_code, session, user};
use crate::store::{First, begin_write};
use crate::two_factor::{self as rules, RECOVERY_CODES, SECRET_BYTES};
use chrono::Utc;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter,
};

/// Where a user's secret is sealed.
fn secret_at(user_id: &str) -> FieldLocation<'_> {
    FieldLocation {
        table: "users",
        column: "totp_secret",
        row: user_id,
    }
}

fn pending_at(user_id: &str) -> FieldLocation<'_> {
    FieldLocation {
        table: "users",
        column: "totp_pending",
        row: user_id,
    }
}

/// What a user's second factor is.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct TwoFactorStatus {
    /// Codes are asked for at sign-in.
    pub enabled: bool,
    pub enabled_at: Option<chrono::DateTime<Utc>>,
    /// The account's role, or its organisation, requires it.
    pub required: bool,
    /// Recovery codes not used yet.
    pub recovery_codes_left: u64,
    /// An enrolment was started and waits for its first code.
    pub enrolling: bool,
}

/// What the authenticator application is given.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct Enrolment {
    /// The `otpauth://` address (the QR code holds it).
    pub otpauth_url: String,
    /// The secret in base32, for typing it instead.
    pub secret: String,
}

impl Services {
    async fn user_row(&self, user_id: i64) -> Result<user::Model> {
        user::Entity::find_by_id(user_id)
            .first(&self.db)
            .await?
            .filter(|u| u.active)
            .ok_or(ServiceError::NotFound("user"))
    }

    pub async fn two_factor_status(&self, actor: &Actor) -> Result<TwoFactorStatus> {
        let u = self.user_row(actor.user_id).await?;
        let org_requires = organisation::Entity::find_by_id(u.org_id)
            .first(&self.db)
            .await?
            .is_some_and(|o| o.require_two_factor);
        let left = recovery_code::Entity::find()
            .filter(recovery_code::Column::UserId.eq(u.id))
            .filter(recovery_code::Column::UsedAt.is_null())
            .count(&self.db)
            .await?;
        Ok(TwoFactorStatus {
            enabled: u.totp_enabled_at.is_some(),
            enabled_at: u.totp_enabled_at,
            required: rules::required(actor.role, &self.auth_policy.two_factor_roles, org_requires),
            recovery_codes_left: if u.totp_enabled_at.is_some() { left } else { 0 },
            enrolling: u.totp_enabled_at.is_none() && u.totp_pending_enc.is_some(),
        })
    }

    /// Begin (or begin again) the enrolment: a new secret, kept until its first code.
    /// 409 when a second factor is already on.
    pub async fn start_two_factor(&self, actor: &Actor) -> Result<Enrolment> {
        let u = self.user_row(actor.user_id).await?;
        if u.totp_enabled_at.is_some() {
            return Err(ServiceError::Conflict(
                "two-factor sign-in is already on for this account".into(),
            ));
        }
        let secret = random_bytes::<SECRET_BYTES>()?;
        let id = u.id.to_string();
        let sealed = self
            .keys
            .encrypt_for(Some(u.org_id), pending_at(&id), &secret)?;
        user::Entity::update_many()
            .col_expr(user::Column::TotpPendingEnc, Expr::value(sealed))
            .filter(user::Column::Id.eq(u.id))
            .exec(&self.db)
            .await?;
        enrolment(&secret, &u.email)
    }

    /// The enrolment under way, to show its QR code again.
    pub async fn pending_enrolment(&self, actor: &Actor) -> Result<Option<Enrolment>> {
        let u = self.user_row(actor.user_id).await?;
        let Some(blob) = u
            .totp_pending_enc
            .as_ref()
            .filter(|_| u.totp_enabled_at.is_none())
        else {
            return Ok(None);
        };
        let secret = self.keys.decrypt(pending_at(&u.id.to_string()), blob)?;
        enrolment(&secret, &u.email).map(Some)
    }

    /// The first code of the enrolment's secret turns the second factor on; answers the
    /// ten recovery codes, shown this once (only their keyed hashes are kept).
    pub async fn confirm_two_factor(&self, actor: &Actor, code: &str) -> Result<Vec<String>> {
        let u = self.user_row(actor.user_id).await?;
        if u.totp_enabled_at.is_some() {
            return Err(ServiceError::Conflict(
                "two-factor sign-in is already on for this account".into(),
            ));
        }
        let Some(blob) = u.totp_pending_enc.as_ref() else {
            return Err(ServiceError::Conflict(
                "no enrolment is under way: start one first".into(),
            ));
        };
        let id = u.id.to_string();
        let secret = self.keys.decrypt(pending_at(&id), blob)?;
        let now = Utc::now();
        let Some(step) = rules::accepted_step(&secret, code, unix(now), None) else {
            return Err(Invalid::new(
                "code",
                "is not the current code of the authenticator application (check its clock)",
            )
            .into());
        };
        let sealed = self
            .keys
            .encrypt_for(Some(u.org_id), secret_at(&id), &secret)?;
        let mut codes = Vec::with_capacity(RECOVERY_CODES);
        let txn = begin_write(&self.db).await?;
        let done = user::Entity::update_many()
            .col_expr(user::Column::TotpSecretEnc, Expr::value(sealed))
            .col_expr(
                user::Column::TotpPendingEnc,
                Expr::value(Option::<Vec<u8>>::None),
            )
            .col_expr(user::Column::TotpEnabledAt, Expr::value(now))
            .col_expr(user::Column::TotpLastStep, Expr::value(step))
            .filter(user::Column::Id.eq(u.id))
            .filter(user::Column::TotpEnabledAt.is_null())
            .exec(&txn)
            .await?;
        if done.rows_affected != 1 {
            return Err(ServiceError::Conflict(
                "two-factor sign-in is already on for this account".into(),
            ));
        }
        recovery_code::Entity::delete_many()
            .filter(recovery_code::Column::UserId.eq(u.id))
            .exec(&txn)
            .await?;
        for _ in 0..RECOVERY_CODES {
            let c = rules::recovery_code(&random_bytes::<10>()?);
            recovery_code::ActiveModel {
                code_hash: Set(self.recovery_hash(&c)),
                user_id: Set(u.id),
                used_at: Set(None),
                created_at: Set(now),
            }
            .insert(&txn)
            .await?;
            codes.push(c);
        }
        txn.commit().await?;
        tracing::info!(user_id = u.id, "two-factor sign-in turned on");
        Ok(codes)
    }

    fn recovery_hash(&self, code: &str) -> String {
        let n = rules::normalise_recovery(code).unwrap_or_default();
        self.keys.blind_index("recovery-code", &n)
    }

    /// Take a TOTP code of `u`: true if it is the current one (one step of drift) and
    /// later than the last accepted; the step is recorded in the same statement.
    pub(crate) async fn take_totp_code(&self, u: &user::Model, code: &str) -> Result<bool> {
        let Some(blob) = u.totp_secret_enc.as_ref() else {
            return Ok(false);
        };
        let secret = self.keys.decrypt(secret_at(&u.id.to_string()), blob)?;
        let Some(step) = rules::accepted_step(&secret, code, unix(Utc::now()), u.totp_last_step)
        else {
            return Ok(false);
        };
        let res = user::Entity::update_many()
            .col_expr(user::Column::TotpLastStep, Expr::value(step))
            .filter(user::Column::Id.eq(u.id))
            .filter(
                sea_orm::Condition::any()
                    .add(user::Column::TotpLastStep.is_null())
                    .add(user::Column::TotpLastStep.lt(step)),
            )
            .exec(&self.db)
            .await?;
        Ok(res.rows_affected == 1)
    }

    async fn take_recovery_code(&self, user_id: i64, code: &str) -> Result<bool> {
        if rules::normalise_recovery(code).is_none() {
            return Ok(false);
        }
        let res = recovery_code::Entity::update_many()
            .col_expr(recovery_code::Column::UsedAt, Expr::value(Utc::now()))
            .filter(recovery_code::Column::CodeHash.eq(self.recovery_hash(code)))
            .filter(recovery_code::Column::UserId.eq(user_id))
            .filter(recovery_code::Column::UsedAt.is_null())
            .exec(&self.db)
            .await?;
        Ok(res.rows_affected == 1)
    }

    /// The second step of a sign-in: the session of `token` (signed in with the password)
    /// opens once a current code, or an unused recovery code, is given. A wrong code
    /// counts as a failed sign-in of the account; a locked account gives none.
    pub async fn second_factor(&self, token: &str, code: &str) -> Result<Actor, LoginError> {
        let unexpected = |e: ServiceError| LoginError::Unexpected(anyhow::anyhow!(e.to_string()));
        let now = Utc::now();
        let Some(s) = session::Entity::find()
            .filter(session::Column::TokenHash.eq(sha256_hex(token.as_bytes())))
            .filter(session::Column::SecondFactorPending.eq(true))
            .first(&self.db)
            .await
            .map_err(|e| unexpected(e.into()))?
        else {
            return Err(LoginError::Rejected);
        };
        if now - s.created_at > self.auth_policy.idle_timeout {
            return Err(LoginError::Rejected);
        }
        let u = self
            .user_row(s.user_id)
            .await
            .map_err(|_| LoginError::Rejected)?;
        let key = self.throttle_key_of(&u.email);
        let locked = login_throttle::Entity::find_by_id(key.clone())
            .first(&self.db)
            .await
            .map_err(|e| unexpected(e.into()))?
            .and_then(|t| t.locked_until)
            .is_some_and(|until| until > now);
        let ok = !locked
            && if rules::normalise_code(code).is_some() {
                self.take_totp_code(&u, code).await.map_err(unexpected)?
            } else {
                self.take_recovery_code(u.id, code)
                    .await
                    .map_err(unexpected)?
            };
        if !ok {
            if !locked {
                self.record_failure(&key).await.map_err(unexpected)?;
            }
            return Err(LoginError::Rejected);
        }
        let txn = begin_write(&self.db)
            .await
            .map_err(|e| unexpected(e.into()))?;
        login_throttle::Entity::delete_by_id(key)
            .exec(&txn)
            .await
            .map_err(|e| unexpected(e.into()))?;
        session::Entity::update_many()
            .col_expr(session::Column::SecondFactorPending, Expr::value(false))
            .col_expr(session::Column::LastSeenAt, Expr::value(now))
            .filter(session::Column::Id.eq(s.id))
            .exec(&txn)
            .await
            .map_err(|e| unexpected(e.into()))?;
        txn.commit().await.map_err(|e| unexpected(e.into()))?;
        super::auth::actor_of(&u).map_err(unexpected)
    }

    /// Is this token's session waiting for its second factor? (the code's page)
    pub async fn awaits_second_factor(&self, token: &str) -> Result<bool> {
        Ok(session::Entity::find()
            .filter(session::Column::TokenHash.eq(sha256_hex(token.as_bytes())))
            .filter(session::Column::SecondFactorPending.eq(true))
            .first(&self.db)
            .await?
            .is_some_and(|s| Utc::now() - s.created_at <= self.auth_policy.idle_timeout))
    }
}

fn unix(t: chrono::DateTime<Utc>) -> u64 {
    u64::try_from(t.timestamp()).unwrap_or(0)
}

fn enrolment(secret: &[u8], email: &str) -> Result<Enrolment> {
    let (otpauth_url, secret) = rules::enrolment(secret, email)
        .ok_or_else(|| ServiceError::Unexpected(anyhow::anyhow!("the TOTP secret was refused")))?;
    Ok(Enrolment {
        otpauth_url,
        secret,
    })
}

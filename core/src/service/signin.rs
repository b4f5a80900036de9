//! Sign-in links by e-mail (issue 13): an invitation when an administrator creates an
//! account without a password, and "forgot password". The token is random (256 bits),
//! kept only as its SHA-256, single use and valid [`LINK_MINUTES`] minutes; its mail goes
//! through the outbox with the link encrypted. Asking for a reset answers the same whether
//! the address exists or not, and at most [`RESETS_PER_WINDOW`] links are made per address
//! in [`RESET_WINDOW_MINUTES`] minutes.

use super::{Result, ServiceError, Services};
use crate::crypto::{self, random_token, sha256_hex};
use crate::domain::{Email, NewPassword};
use crate::notify::NotificationKind;
use crate::store::entity::{login_throttle, notification, signin_token, user};
use crate::store::{First, begin_write};
use chrono::{Duration, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseTransaction, EntityTrait, QueryFilter,
};

/// How long a sign-in link is valid.
pub const LINK_MINUTES: i64 = 30;
/// Reset links made per address within the window, at most.
pub const RESETS_PER_WINDOW: i32 = 3;
pub const RESET_WINDOW_MINUTES: i64 = 15;

/// Why a link does not open (the page says so in words).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkProblem {
    /// Unknown, or already used.
    Used,
    Expired,
}

impl Services {
    /// Make a sign-in link for `u` and put its mail in the outbox, in `txn`.
    pub(crate) async fn send_signin_link(
        &self,
        txn: &DatabaseTransaction,
        u: &user::Model,
        purpose: &str,
    ) -> Result<()> {
        let token = random_token(32)?;
        let now = Utc::now();
        signin_token::ActiveModel {
            token_hash: Set(sha256_hex(token.as_bytes())),
            user_id: Set(u.id),
            purpose: Set(purpose.into()),
            expires_at: Set(now + Duration::minutes(LINK_MINUTES)),
            used_at: Set(None),
            created_at: Set(now),
        }
        .insert(txn)
        .await?;
        let kind = if purpose == "invitation" {
            NotificationKind::AccountCreated
        } else {
            NotificationKind::PasswordReset
        };
        let id = random_token(16)?;
        let secret = format!("/signin/{token}");
        notification::ActiveModel {
            id: Set(id.clone()),
            user_id: Set(u.id),
            org_id: Set(u.org_id),
            kind: Set(kind.as_str().into()),
            case_ref: Set(None),
            from_org: Set(String::new()),
            // What the in-app list links to; the mail carries the secret link.
            link: Set("/login".into()),
            lang: Set(u.lang.clone()),
            email: Set(u.email.clone()),
            delivery: Set("immediately".into()),
            mail_status: Set("pending".into()),
            attempts: Set(0),
            next_attempt_at: Set(now),
            lease_owner: Set(None),
            lease_until: Set(None),
            sent_at: Set(None),
            last_error: Set(None),
            read_at: Set(Some(now)),
            dedup_key: Set(None),
            created_at: Set(now),
            digest_id: Set(None),
            secret_enc: Set(Some(self.seal_field(
                u.org_id,
                "notifications",
                "secret",
                &id,
                &secret,
            )?)),
        }
        .insert(txn)
        .await?;
        Ok(())
    }

    /// "Forgot password": the same answer for every address (nothing tells whether it
    /// exists); a link is made only for an active account, and not more than
    /// [`RESETS_PER_WINDOW`] per address in the window.
    pub async fn request_password_reset(&self, email: &str) -> Result<()> {
        let Ok(email) = Email::parse(email) else {
            return Ok(());
        };
        let key = self.keys.blind_index("reset", email.as_str());
        let now = Utc::now();
        let txn = begin_write(&self.db).await?;
        let t = login_throttle::Entity::find_by_id(key.clone())
            .first(&txn)
            .await?;
        let fresh = t
            .as_ref()
            .is_none_or(|t| now - t.window_start > Duration::minutes(RESET_WINDOW_MINUTES));
        let count = if fresh {
            0
        } else {
            t.as_ref().map_or(0, |t| t.failures)
        };
        if count >= RESETS_PER_WINDOW {
            txn.commit().await?;
            return Ok(());
        }
        match (t, fresh) {
            (None, _) => {
                login_throttle::ActiveModel {
                    email_key: Set(key),
                    failures: Set(1),
                    window_start: Set(now),
                    locked_until: Set(None),
                }
                .insert(&txn)
                .await?;
            }
            (Some(_), true) => {
                login_throttle::Entity::update_many()
                    .col_expr(login_throttle::Column::Failures, Expr::value(1))
                    .col_expr(login_throttle::Column::WindowStart, Expr::value(now))
                    .filter(login_throttle::Column::EmailKey.eq(key))
                    .exec(&txn)
                    .await?;
            }
            (Some(_), false) => {
                login_throttle::Entity::update_many()
                    .col_expr(login_throttle::Column::Failures, Expr::value(count + 1))
                    .filter(login_throttle::Column::EmailKey.eq(key))
                    .exec(&txn)
                    .await?;
            }
        }
        if let Some(u) = user::Entity::find()
            .filter(user::Column::Email.eq(email.as_str()))
            .filter(user::Column::Active.eq(true))
            .first(&txn)
            .await?
        {
            self.send_signin_link(&txn, &u, "reset").await?;
        }
        txn.commit().await?;
        Ok(())
    }

    /// Does this link open (for its page)? The account's e-mail address when it does.
    pub async fn check_signin_link(
        &self,
        token: &str,
    ) -> Result<std::result::Result<String, LinkProblem>> {
        let Some(t) = signin_token::Entity::find_by_id(sha256_hex(token.trim().as_bytes()))
            .first(&self.db)
            .await?
        else {
            return Ok(Err(LinkProblem::Used));
        };
        if t.used_at.is_some() {
            return Ok(Err(LinkProblem::Used));
        }
        if t.expires_at < Utc::now() {
            return Ok(Err(LinkProblem::Expired));
        }
        let u = user::Entity::find_by_id(t.user_id)
            .first(&self.db)
            .await?
            .ok_or(ServiceError::NotFound("user"))?;
        Ok(Ok(u.email))
    }

    /// Use a link: set the password (once; the link is then spent) and end the account's
    /// sessions. A used, unknown or expired link is refused with why.
    pub async fn use_signin_link(
        &self,
        token: &str,
        password: &str,
    ) -> Result<std::result::Result<(), LinkProblem>> {
        let password = NewPassword::parse(password)?;
        let hash = {
            let p = password.secret().clone();
            tokio::task::spawn_blocking(move || crypto::hash_password(&p))
                .await
                .map_err(|e| anyhow::anyhow!("hashing failed: {e}"))??
        };
        let key = sha256_hex(token.trim().as_bytes());
        let now = Utc::now();
        let txn = begin_write(&self.db).await?;
        let Some(t) = signin_token::Entity::find_by_id(key.clone())
            .first(&txn)
            .await?
        else {
            return Ok(Err(LinkProblem::Used));
        };
        if t.used_at.is_some() {
            return Ok(Err(LinkProblem::Used));
        }
        if t.expires_at < now {
            return Ok(Err(LinkProblem::Expired));
        }
        let spent = signin_token::Entity::update_many()
            .col_expr(signin_token::Column::UsedAt, Expr::value(Some(now)))
            .filter(signin_token::Column::TokenHash.eq(key))
            .filter(signin_token::Column::UsedAt.is_null())
            .exec(&txn)
            .await?;
        if spent.rows_affected != 1 {
            return Ok(Err(LinkProblem::Used));
        }
        user::Entity::update_many()
            .col_expr(user::Column::PasswordHash, Expr::value(hash))
            .filter(user::Column::Id.eq(t.user_id))
            .exec(&txn)
            .await?;
        crate::store::entity::session::Entity::delete_many()
            .filter(crate::store::entity::session::Column::UserId.eq(t.user_id))
            .exec(&txn)
            .await?;
        txn.commit().await?;
        Ok(Ok(()))
    }
}

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "users")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub org_id: i64,
    pub email: String,
    pub display_name: String,
    pub role: String,
    pub password_hash: String,
    pub active: bool,
    /// The language of the user's mail (en, fr).
    pub lang: String,
    /// Since when mail to this address keeps failing (shown to the administrator).
    pub mail_failing_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    /// The TOTP secret (AEAD, `users|totp_secret|id`), once enrolment is confirmed.
    pub totp_secret_enc: Option<Vec<u8>>,
    /// The secret being enrolled (`users|totp_pending|id`), until its first code.
    pub totp_pending_enc: Option<Vec<u8>>,
    pub totp_enabled_at: Option<DateTimeUtc>,
    /// The last time step a code was accepted for: a code is used once.
    pub totp_last_step: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

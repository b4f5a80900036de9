use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "sessions")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// SHA-256 of the cookie token: a stolen database does not yield live sessions.
    pub token_hash: String,
    pub user_id: i64,
    pub csrf_token: String,
    pub created_at: DateTimeUtc,
    pub last_seen_at: DateTimeUtc,
    /// When the password was last given again in this session (exports of personal data).
    pub reauth_at: Option<DateTimeUtc>,
    /// Signed in with the password, still waiting for the second factor: not a session
    /// that opens anything but the code's page.
    pub second_factor_pending: bool,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

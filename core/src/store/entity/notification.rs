use sea_orm::entity::prelude::*;

/// One person told of one event (issue 13). No personal data of a protected person: the
/// kind, the case's pseudonymous reference, the organisation's name, a link.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "notifications")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub user_id: i64,
    pub org_id: i64,
    pub kind: String,
    pub case_ref: Option<String>,
    pub from_org: String,
    /// A path on this deployment (behind sign-in).
    pub link: String,
    pub lang: String,
    pub email: String,
    /// immediately, daily_digest or off.
    pub delivery: String,
    /// pending, sent, failed or none (not mailed).
    pub mail_status: String,
    pub attempts: i32,
    pub next_attempt_at: DateTimeUtc,
    pub lease_owner: Option<String>,
    pub lease_until: Option<DateTimeUtc>,
    pub sent_at: Option<DateTimeUtc>,
    pub last_error: Option<String>,
    pub read_at: Option<DateTimeUtc>,
    /// For the scheduler's reminders: unique, so that several nodes create each once.
    pub dedup_key: Option<String>,
    pub created_at: DateTimeUtc,
    /// The digest that gathered this notification (mail status `digested`).
    pub digest_id: Option<String>,
    /// A sign-in link's path with its token (encrypted): invitations and resets only.
    pub secret_enc: Option<Vec<u8>>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

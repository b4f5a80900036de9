use sea_orm::entity::prelude::*;

/// A re-trafficking or reintegration alert (issue 12).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "follow_up_alerts")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub case_id: i64,
    /// The follow-up organisation.
    pub org_id: i64,
    pub category: String,
    pub severity: String,
    /// open, acknowledged or closed.
    pub status: String,
    /// Raised by the system (a score or missed visits), not by a person.
    pub automatic: bool,
    /// For an automatic alert, what raised it (e.g. `low_score:economic`): no personal data.
    pub rule: Option<String>,
    pub details_enc: Option<Vec<u8>>,
    pub owner_user_id: Option<i64>,
    pub raised_by: Option<i64>,
    pub raised_at: DateTimeUtc,
    pub acknowledged_by: Option<i64>,
    pub acknowledged_at: Option<DateTimeUtc>,
    pub closed_by: Option<i64>,
    pub closed_at: Option<DateTimeUtc>,
    pub action_enc: Option<Vec<u8>>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

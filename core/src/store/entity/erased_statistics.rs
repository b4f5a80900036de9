use sea_orm::entity::prelude::*;

/// What an erased case kept for the statistics export, already generalised (migration
/// 000017, `crate::erasure::StatisticalRecord`): no name, no date, no place finer than a
/// country.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "erased_statistics")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub case_id: i64,
    /// The finest age band the export publishes (both ends included); none: unknown.
    pub age_from: Option<i16>,
    pub age_to: Option<i16>,
    pub citizenship: Option<String>,
    pub country_of_exploitation: Option<String>,
    /// Exploitation types, comma-separated codes.
    pub exploitation: String,
    /// Means of control, comma-separated codes.
    pub means_of_control: String,
    pub gender: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

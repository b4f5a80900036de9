//! Schema migrations. Append-only: a migration that has landed is never edited;
//! changes come as new files `mYYYYMMDD_HHMMSS_name.rs`. Each must run on SQLite and PostgreSQL.

pub use sea_orm_migration::prelude::*;

mod m20261127_000001_foundation;
mod m20261127_000002_identification;
mod m20261127_000003_caseload_indexes;
mod m20261127_000004_trial;
mod m20261127_000005_returns;
mod m20261202_000006_conventions;
mod m20261202_000007_reasons;
mod m20261202_000008_funding;
mod m20261202_000009_return_estimates;
mod m20261202_000010_open_caseload_indexes;
mod m20261202_000011_fund_entry_indexes;
mod m20261203_000012_follow_up;
mod m20261203_000013_notifications;
mod m20261203_000014_notification_prefs;
mod m20261203_000015_signin_links;
mod m20261204_000016_exports;
mod m20261207_000017_erasure;
mod m20261207_000018_two_factor;
mod m20261208_000019_data_keys;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261127_000001_foundation::Migration),
            Box::new(m20261127_000002_identification::Migration),
            Box::new(m20261127_000003_caseload_indexes::Migration),
            Box::new(m20261127_000004_trial::Migration),
            Box::new(m20261127_000005_returns::Migration),
            Box::new(m20261202_000006_conventions::Migration),
            Box::new(m20261202_000007_reasons::Migration),
            Box::new(m20261202_000008_funding::Migration),
            Box::new(m20261202_000009_return_estimates::Migration),
            Box::new(m20261202_000010_open_caseload_indexes::Migration),
            Box::new(m20261202_000011_fund_entry_indexes::Migration),
            Box::new(m20261203_000012_follow_up::Migration),
            Box::new(m20261203_000013_notifications::Migration),
            Box::new(m20261203_000014_notification_prefs::Migration),
            Box::new(m20261203_000015_signin_links::Migration),
            Box::new(m20261204_000016_exports::Migration),
            Box::new(m20261207_000017_erasure::Migration),
            Box::new(m20261207_000018_two_factor::Migration),
            Box::new(m20261208_000019_data_keys::Migration),
        ]
    }
}

//! The API conventions and the path fixes of issue 16.
//!
//! - **One kind of identifier for sub-resources.** Consents, shares and referrals had
//!   integer keys while every other record of a case has a random 32-character hex id.
//!   They keep their integer keys inside the database (foreign keys and the associated
//!   data of encrypted fields are bound to them), and gain a `uid`: the random hex id the
//!   API and the pages use. Existing rows get one here, on both backends.
//! - **Legs and travel documents keep their history.** A leg or document is changed or
//!   cancelled until departure; the old row stays (`status` changed/cancelled, who, when,
//!   why, and the row that replaced it).
//! - **Departures and arrivals carry their real date**; a departure recorded before the
//!   booked travel date says why (`early_departure_reason_enc`).
//! - **A measure's decision records who decided** (the deciding authority) and the
//!   decision's reference (encrypted, like the court's case number).
//! - **A case can be closed** with an outcome (HTCDS case status), a reason and a note.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261202_000006_conventions"
    }
}

#[derive(DeriveIden)]
enum Consents {
    Table,
}
#[derive(DeriveIden)]
enum Shares {
    Table,
}
#[derive(DeriveIden)]
enum Referrals {
    Table,
}
/// The column every one of them gains.
#[derive(DeriveIden)]
enum Col {
    Uid,
}

#[derive(DeriveIden)]
enum ItineraryLegs {
    Table,
    ReplacedBy,
    EndReasonEnc,
    EndedAt,
    EndedBy,
}

#[derive(DeriveIden)]
enum TravelDocuments {
    Table,
    Status,
    ReplacedBy,
    EndReasonEnc,
    EndedAt,
    EndedBy,
}

#[derive(DeriveIden)]
enum Returns {
    Table,
    EarlyDepartureReasonEnc,
}

#[derive(DeriveIden)]
enum MeasureRequests {
    Table,
    Authority,
    DecisionRefEnc,
}

#[derive(DeriveIden)]
enum Cases {
    Table,
    ClosedAt,
    ClosedBy,
    CloseStatus,
    CloseReason,
    CloseNoteEnc,
}

/// One column at a time: SQLite's ALTER TABLE takes one change per statement.
async fn add(m: &SchemaManager<'_>, table: impl IntoIden, col: ColumnDef) -> Result<(), DbErr> {
    m.alter_table(
        Table::alter()
            .table(table)
            .add_column(col.to_owned())
            .to_owned(),
    )
    .await
}

async fn drop(
    m: &SchemaManager<'_>,
    table: impl IntoIden,
    col: impl IntoIden,
) -> Result<(), DbErr> {
    m.alter_table(Table::alter().table(table).drop_column(col).to_owned())
        .await
}

/// A random 32-character lowercase hex id for every existing row.
fn backfill_uids(backend: DbBackend, table: &str) -> String {
    match backend {
        DbBackend::Postgres => format!(
            "UPDATE \"{table}\" SET uid = replace(gen_random_uuid()::text, '-', '') WHERE uid IS NULL"
        ),
        _ => format!("UPDATE \"{table}\" SET uid = lower(hex(randomblob(16))) WHERE uid IS NULL"),
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let backend = m.get_database_backend();
        for (table, name) in [
            (Consents::Table.into_iden(), "consents"),
            (Shares::Table.into_iden(), "shares"),
            (Referrals::Table.into_iden(), "referrals"),
        ] {
            add(m, table.clone(), string_len_null(Col::Uid, 32)).await?;
            m.get_connection()
                .execute_unprepared(&backfill_uids(backend, name))
                .await?;
            m.create_index(
                Index::create()
                    .name(format!("idx_{name}_uid"))
                    .table(table)
                    .col(Col::Uid)
                    .unique()
                    .to_owned(),
            )
            .await?;
        }

        add(
            m,
            ItineraryLegs::Table,
            string_len_null(ItineraryLegs::ReplacedBy, 32),
        )
        .await?;
        add(
            m,
            ItineraryLegs::Table,
            blob_null(ItineraryLegs::EndReasonEnc),
        )
        .await?;
        add(
            m,
            ItineraryLegs::Table,
            timestamp_with_time_zone_null(ItineraryLegs::EndedAt),
        )
        .await?;
        add(
            m,
            ItineraryLegs::Table,
            big_integer_null(ItineraryLegs::EndedBy),
        )
        .await?;

        add(
            m,
            TravelDocuments::Table,
            string_len(TravelDocuments::Status, 16)
                .default("valid")
                .to_owned(),
        )
        .await?;
        add(
            m,
            TravelDocuments::Table,
            string_len_null(TravelDocuments::ReplacedBy, 32),
        )
        .await?;
        add(
            m,
            TravelDocuments::Table,
            blob_null(TravelDocuments::EndReasonEnc),
        )
        .await?;
        add(
            m,
            TravelDocuments::Table,
            timestamp_with_time_zone_null(TravelDocuments::EndedAt),
        )
        .await?;
        add(
            m,
            TravelDocuments::Table,
            big_integer_null(TravelDocuments::EndedBy),
        )
        .await?;

        add(
            m,
            Returns::Table,
            blob_null(Returns::EarlyDepartureReasonEnc),
        )
        .await?;

        add(
            m,
            MeasureRequests::Table,
            string_len_null(MeasureRequests::Authority, 40),
        )
        .await?;
        add(
            m,
            MeasureRequests::Table,
            blob_null(MeasureRequests::DecisionRefEnc),
        )
        .await?;

        add(
            m,
            Cases::Table,
            timestamp_with_time_zone_null(Cases::ClosedAt),
        )
        .await?;
        add(m, Cases::Table, big_integer_null(Cases::ClosedBy)).await?;
        add(m, Cases::Table, string_len_null(Cases::CloseStatus, 20)).await?;
        add(m, Cases::Table, string_len_null(Cases::CloseReason, 40)).await?;
        add(m, Cases::Table, blob_null(Cases::CloseNoteEnc)).await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for c in [
            Cases::CloseNoteEnc,
            Cases::CloseReason,
            Cases::CloseStatus,
            Cases::ClosedBy,
            Cases::ClosedAt,
        ] {
            drop(m, Cases::Table, c).await?;
        }
        drop(m, MeasureRequests::Table, MeasureRequests::DecisionRefEnc).await?;
        drop(m, MeasureRequests::Table, MeasureRequests::Authority).await?;
        drop(m, Returns::Table, Returns::EarlyDepartureReasonEnc).await?;
        for c in [
            TravelDocuments::EndedBy,
            TravelDocuments::EndedAt,
            TravelDocuments::EndReasonEnc,
            TravelDocuments::ReplacedBy,
            TravelDocuments::Status,
        ] {
            drop(m, TravelDocuments::Table, c).await?;
        }
        for c in [
            ItineraryLegs::EndedBy,
            ItineraryLegs::EndedAt,
            ItineraryLegs::EndReasonEnc,
            ItineraryLegs::ReplacedBy,
        ] {
            drop(m, ItineraryLegs::Table, c).await?;
        }
        for (table, name) in [
            (Referrals::Table.into_iden(), "referrals"),
            (Shares::Table.into_iden(), "shares"),
            (Consents::Table.into_iden(), "consents"),
        ] {
            m.drop_index(
                Index::drop()
                    .name(format!("idx_{name}_uid"))
                    .table(table.clone())
                    .to_owned(),
            )
            .await?;
            drop(m, table, Col::Uid).await?;
        }
        Ok(())
    }
}

//! Protection at trial: criminal proceedings (court, case number and contacts
//! encrypted), their hearings, the protective measures requested and decided for them,
//! and a planned departure per case (the return stage fills it later).

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261127_000004_trial"
    }
}

#[derive(DeriveIden)]
enum Cases {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum PlannedDepartures {
    Table,
    CaseId,
    DepartureOn,
    NoteEnc,
    RecordedBy,
    RecordedAt,
}

#[derive(DeriveIden)]
enum Proceedings {
    Table,
    Id,
    CaseId,
    Status,
    CourtEnc,
    JurisdictionEnc,
    CaseNumberEnc,
    Charges,
    PersonRole,
    ProsecutorEnc,
    InvestigatorEnc,
    CooperationRequired,
    CooperationDecidedByEnc,
    CooperationDecidedOn,
    AdvocateAtFirstInterview,
    CreatedBy,
    CreatedAt,
    ClosedAt,
    ClosedBy,
}

#[derive(DeriveIden)]
enum Hearings {
    Table,
    Id,
    ProceedingId,
    CaseId,
    Kind,
    HeldOn,
    TestimonyRequired,
    PresenceRequired,
    NotesEnc,
    CancelledAt,
    CreatedBy,
    CreatedAt,
}

#[derive(DeriveIden)]
enum MeasureRequests {
    Table,
    Id,
    CaseId,
    ProceedingId,
    HearingId,
    MeasureId,
    ReplacesPresence,
    Status,
    RequestedOn,
    RequestedBy,
    DecidedOn,
    DecidedBy,
    ReasonEnc,
    CreatedAt,
    UpdatedAt,
}

fn fk(
    from_table: impl IntoIden,
    from_col: impl IntoIden,
    to_table: impl IntoIden,
    to_col: impl IntoIden,
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from(from_table, from_col)
        .to(to_table, to_col)
        .on_delete(ForeignKeyAction::Restrict)
        .to_owned()
}

async fn index(
    m: &SchemaManager<'_>,
    name: &str,
    table: impl IntoIden,
    col: impl IntoIden,
) -> Result<(), DbErr> {
    m.create_index(Index::create().name(name).table(table).col(col).to_owned())
        .await
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(PlannedDepartures::Table)
                .col(big_integer(PlannedDepartures::CaseId).primary_key())
                .col(date(PlannedDepartures::DepartureOn))
                .col(blob_null(PlannedDepartures::NoteEnc))
                .col(big_integer(PlannedDepartures::RecordedBy))
                .col(timestamp_with_time_zone(PlannedDepartures::RecordedAt))
                .foreign_key(&mut fk(
                    PlannedDepartures::Table,
                    PlannedDepartures::CaseId,
                    Cases::Table,
                    Cases::Id,
                ))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Proceedings::Table)
                .col(string_len(Proceedings::Id, 32).primary_key())
                .col(big_integer(Proceedings::CaseId))
                .col(string_len(Proceedings::Status, 16))
                .col(blob(Proceedings::CourtEnc))
                .col(blob(Proceedings::JurisdictionEnc))
                .col(blob(Proceedings::CaseNumberEnc))
                .col(string_len(Proceedings::Charges, 200))
                .col(string_len(Proceedings::PersonRole, 32))
                .col(blob_null(Proceedings::ProsecutorEnc))
                .col(blob_null(Proceedings::InvestigatorEnc))
                .col(boolean_null(Proceedings::CooperationRequired))
                .col(blob_null(Proceedings::CooperationDecidedByEnc))
                .col(date_null(Proceedings::CooperationDecidedOn))
                .col(boolean(Proceedings::AdvocateAtFirstInterview).default(false))
                .col(big_integer(Proceedings::CreatedBy))
                .col(timestamp_with_time_zone(Proceedings::CreatedAt))
                .col(timestamp_with_time_zone_null(Proceedings::ClosedAt))
                .col(big_integer_null(Proceedings::ClosedBy))
                .foreign_key(&mut fk(
                    Proceedings::Table,
                    Proceedings::CaseId,
                    Cases::Table,
                    Cases::Id,
                ))
                .to_owned(),
        )
        .await?;
        index(
            m,
            "idx_proceedings_case",
            Proceedings::Table,
            Proceedings::CaseId,
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Hearings::Table)
                .col(string_len(Hearings::Id, 32).primary_key())
                .col(string_len(Hearings::ProceedingId, 32))
                .col(big_integer(Hearings::CaseId))
                .col(string_len(Hearings::Kind, 32))
                .col(date(Hearings::HeldOn))
                .col(boolean(Hearings::TestimonyRequired))
                .col(boolean(Hearings::PresenceRequired))
                .col(blob_null(Hearings::NotesEnc))
                .col(timestamp_with_time_zone_null(Hearings::CancelledAt))
                .col(big_integer(Hearings::CreatedBy))
                .col(timestamp_with_time_zone(Hearings::CreatedAt))
                .foreign_key(&mut fk(
                    Hearings::Table,
                    Hearings::ProceedingId,
                    Proceedings::Table,
                    Proceedings::Id,
                ))
                .foreign_key(&mut fk(
                    Hearings::Table,
                    Hearings::CaseId,
                    Cases::Table,
                    Cases::Id,
                ))
                .to_owned(),
        )
        .await?;
        index(m, "idx_hearings_case", Hearings::Table, Hearings::CaseId).await?;

        m.create_table(
            Table::create()
                .table(MeasureRequests::Table)
                .col(string_len(MeasureRequests::Id, 32).primary_key())
                .col(big_integer(MeasureRequests::CaseId))
                .col(string_len(MeasureRequests::ProceedingId, 32))
                .col(string_len_null(MeasureRequests::HearingId, 32))
                .col(string_len(MeasureRequests::MeasureId, 64))
                .col(boolean(MeasureRequests::ReplacesPresence))
                .col(string_len(MeasureRequests::Status, 16))
                .col(date(MeasureRequests::RequestedOn))
                .col(big_integer(MeasureRequests::RequestedBy))
                .col(date_null(MeasureRequests::DecidedOn))
                .col(big_integer_null(MeasureRequests::DecidedBy))
                .col(blob_null(MeasureRequests::ReasonEnc))
                .col(timestamp_with_time_zone(MeasureRequests::CreatedAt))
                .col(timestamp_with_time_zone(MeasureRequests::UpdatedAt))
                .foreign_key(&mut fk(
                    MeasureRequests::Table,
                    MeasureRequests::CaseId,
                    Cases::Table,
                    Cases::Id,
                ))
                .foreign_key(&mut fk(
                    MeasureRequests::Table,
                    MeasureRequests::ProceedingId,
                    Proceedings::Table,
                    Proceedings::Id,
                ))
                .foreign_key(&mut fk(
                    MeasureRequests::Table,
                    MeasureRequests::HearingId,
                    Hearings::Table,
                    Hearings::Id,
                ))
                .to_owned(),
        )
        .await?;
        index(
            m,
            "idx_measure_requests_case",
            MeasureRequests::Table,
            MeasureRequests::CaseId,
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            MeasureRequests::Table.into_iden(),
            Hearings::Table.into_iden(),
            Proceedings::Table.into_iden(),
            PlannedDepartures::Table.into_iden(),
        ] {
            m.drop_table(Table::drop().table(t).to_owned()).await?;
        }
        Ok(())
    }
}

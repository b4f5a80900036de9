//! Identification and protection: screening interviews (answers encrypted), the Protocol
//! elements found (encrypted), trafficking and smuggling determinations kept apart with
//! their history, legal deadlines, referrals between organisations, services and shelter
//! placements (location encrypted).

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261127_000002_identification"
    }
}

#[derive(DeriveIden)]
enum Cases {
    Table,
    Id,
}
#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}
#[derive(DeriveIden)]
enum Organisations {
    Table,
    Id,
}
#[derive(DeriveIden)]
enum Consents {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Interviews {
    Table,
    Id,
    CaseId,
    HeldOn,
    InterviewerUserId,
    InterviewerKind,
    Language,
    Interpreter,
    Mode,
    QuestionIds,
    AnswersEnc,
    Answered,
    Jurisdiction,
    CreatedAt,
}

#[derive(DeriveIden)]
enum CaseElements {
    Table,
    CaseId,
    ElementsEnc,
    FindingsEnc,
    UpdatedBy,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum TraffickingDecisions {
    Table,
    Id,
    CaseId,
    Status,
    DecidingBody,
    DecidedOn,
    BasisEnc,
    AuthorUserId,
    RecordedAt,
}

#[derive(DeriveIden)]
enum SmugglingDecisions {
    Table,
    Id,
    CaseId,
    Status,
    VictimOfOtherCrimes,
    Witness,
    DecidingBody,
    DecidedOn,
    BasisEnc,
    AuthorUserId,
    RecordedAt,
}

#[derive(DeriveIden)]
enum Deadlines {
    Table,
    Id,
    CaseId,
    Kind,
    StartsOn,
    DueOn,
    Source,
    ClosedAt,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Referrals {
    Table,
    Id,
    CaseId,
    FromOrgId,
    ToOrgId,
    Service,
    Sections,
    ConsentId,
    Status,
    ReasonEnc,
    PartnerPayload,
    CreatedBy,
    CreatedAt,
    DueAt,
    AnsweredBy,
    AnsweredAt,
}

#[derive(DeriveIden)]
enum CaseServices {
    Table,
    Id,
    CaseId,
    ProviderOrgId,
    Kind,
    PlannedOn,
    DeliveredOn,
    OutcomeEnc,
    CreatedBy,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Placements {
    Table,
    Id,
    CaseId,
    ShelterOrgId,
    LocationEnc,
    FromOn,
    UntilOn,
    CreatedBy,
    CreatedAt,
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
                .table(Interviews::Table)
                .col(string_len(Interviews::Id, 32).primary_key())
                .col(big_integer(Interviews::CaseId))
                .col(date(Interviews::HeldOn))
                .col(big_integer(Interviews::InterviewerUserId))
                .col(string_len(Interviews::InterviewerKind, 40))
                .col(string_len(Interviews::Language, 35))
                .col(boolean(Interviews::Interpreter))
                .col(string_len(Interviews::Mode, 10))
                .col(text(Interviews::QuestionIds))
                .col(blob_null(Interviews::AnswersEnc))
                .col(integer(Interviews::Answered).default(0))
                .col(string_len(Interviews::Jurisdiction, 200))
                .col(timestamp_with_time_zone(Interviews::CreatedAt))
                .foreign_key(&mut fk(
                    Interviews::Table,
                    Interviews::CaseId,
                    Cases::Table,
                    Cases::Id,
                ))
                .foreign_key(&mut fk(
                    Interviews::Table,
                    Interviews::InterviewerUserId,
                    Users::Table,
                    Users::Id,
                ))
                .to_owned(),
        )
        .await?;
        index(
            m,
            "idx_interviews_case",
            Interviews::Table,
            Interviews::CaseId,
        )
        .await?;

        m.create_table(
            Table::create()
                .table(CaseElements::Table)
                .col(big_integer(CaseElements::CaseId).primary_key())
                .col(blob(CaseElements::ElementsEnc))
                .col(blob_null(CaseElements::FindingsEnc))
                .col(big_integer(CaseElements::UpdatedBy))
                .col(timestamp_with_time_zone(CaseElements::UpdatedAt))
                .foreign_key(&mut fk(
                    CaseElements::Table,
                    CaseElements::CaseId,
                    Cases::Table,
                    Cases::Id,
                ))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(TraffickingDecisions::Table)
                .col(string_len(TraffickingDecisions::Id, 32).primary_key())
                .col(big_integer(TraffickingDecisions::CaseId))
                .col(string_len(TraffickingDecisions::Status, 40))
                .col(string_len(TraffickingDecisions::DecidingBody, 40))
                .col(date(TraffickingDecisions::DecidedOn))
                .col(blob(TraffickingDecisions::BasisEnc))
                .col(big_integer(TraffickingDecisions::AuthorUserId))
                .col(timestamp_with_time_zone(TraffickingDecisions::RecordedAt))
                .foreign_key(&mut fk(
                    TraffickingDecisions::Table,
                    TraffickingDecisions::CaseId,
                    Cases::Table,
                    Cases::Id,
                ))
                .to_owned(),
        )
        .await?;
        index(
            m,
            "idx_tdec_case",
            TraffickingDecisions::Table,
            TraffickingDecisions::CaseId,
        )
        .await?;

        m.create_table(
            Table::create()
                .table(SmugglingDecisions::Table)
                .col(string_len(SmugglingDecisions::Id, 32).primary_key())
                .col(big_integer(SmugglingDecisions::CaseId))
                .col(string_len(SmugglingDecisions::Status, 40))
                .col(boolean(SmugglingDecisions::VictimOfOtherCrimes))
                .col(boolean(SmugglingDecisions::Witness))
                .col(string_len(SmugglingDecisions::DecidingBody, 40))
                .col(date(SmugglingDecisions::DecidedOn))
                .col(blob(SmugglingDecisions::BasisEnc))
                .col(big_integer(SmugglingDecisions::AuthorUserId))
                .col(timestamp_with_time_zone(SmugglingDecisions::RecordedAt))
                .foreign_key(&mut fk(
                    SmugglingDecisions::Table,
                    SmugglingDecisions::CaseId,
                    Cases::Table,
                    Cases::Id,
                ))
                .to_owned(),
        )
        .await?;
        index(
            m,
            "idx_sdec_case",
            SmugglingDecisions::Table,
            SmugglingDecisions::CaseId,
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Deadlines::Table)
                .col(big_pk_auto(Deadlines::Id))
                .col(big_integer(Deadlines::CaseId))
                .col(string_len(Deadlines::Kind, 60))
                .col(date(Deadlines::StartsOn))
                .col(date(Deadlines::DueOn))
                .col(string_len(Deadlines::Source, 80))
                .col(timestamp_with_time_zone_null(Deadlines::ClosedAt))
                .col(timestamp_with_time_zone(Deadlines::CreatedAt))
                .foreign_key(&mut fk(
                    Deadlines::Table,
                    Deadlines::CaseId,
                    Cases::Table,
                    Cases::Id,
                ))
                .to_owned(),
        )
        .await?;
        index(m, "idx_deadlines_case", Deadlines::Table, Deadlines::CaseId).await?;

        m.create_table(
            Table::create()
                .table(Referrals::Table)
                .col(big_pk_auto(Referrals::Id))
                .col(big_integer(Referrals::CaseId))
                .col(big_integer(Referrals::FromOrgId))
                .col(big_integer(Referrals::ToOrgId))
                .col(string_len(Referrals::Service, 40))
                .col(string_len(Referrals::Sections, 200))
                .col(big_integer(Referrals::ConsentId))
                .col(string_len(Referrals::Status, 20))
                .col(blob_null(Referrals::ReasonEnc))
                .col(text_null(Referrals::PartnerPayload))
                .col(big_integer(Referrals::CreatedBy))
                .col(timestamp_with_time_zone(Referrals::CreatedAt))
                .col(timestamp_with_time_zone(Referrals::DueAt))
                .col(big_integer_null(Referrals::AnsweredBy))
                .col(timestamp_with_time_zone_null(Referrals::AnsweredAt))
                .foreign_key(&mut fk(
                    Referrals::Table,
                    Referrals::CaseId,
                    Cases::Table,
                    Cases::Id,
                ))
                .foreign_key(&mut fk(
                    Referrals::Table,
                    Referrals::FromOrgId,
                    Organisations::Table,
                    Organisations::Id,
                ))
                .foreign_key(&mut fk(
                    Referrals::Table,
                    Referrals::ToOrgId,
                    Organisations::Table,
                    Organisations::Id,
                ))
                .foreign_key(&mut fk(
                    Referrals::Table,
                    Referrals::ConsentId,
                    Consents::Table,
                    Consents::Id,
                ))
                .to_owned(),
        )
        .await?;
        index(m, "idx_referrals_to", Referrals::Table, Referrals::ToOrgId).await?;
        index(m, "idx_referrals_case", Referrals::Table, Referrals::CaseId).await?;

        m.create_table(
            Table::create()
                .table(CaseServices::Table)
                .col(string_len(CaseServices::Id, 32).primary_key())
                .col(big_integer(CaseServices::CaseId))
                .col(big_integer(CaseServices::ProviderOrgId))
                .col(string_len(CaseServices::Kind, 40))
                .col(date(CaseServices::PlannedOn))
                .col(date_null(CaseServices::DeliveredOn))
                .col(blob_null(CaseServices::OutcomeEnc))
                .col(big_integer(CaseServices::CreatedBy))
                .col(timestamp_with_time_zone(CaseServices::CreatedAt))
                .foreign_key(&mut fk(
                    CaseServices::Table,
                    CaseServices::CaseId,
                    Cases::Table,
                    Cases::Id,
                ))
                .foreign_key(&mut fk(
                    CaseServices::Table,
                    CaseServices::ProviderOrgId,
                    Organisations::Table,
                    Organisations::Id,
                ))
                .to_owned(),
        )
        .await?;
        index(
            m,
            "idx_services_case",
            CaseServices::Table,
            CaseServices::CaseId,
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Placements::Table)
                .col(string_len(Placements::Id, 32).primary_key())
                .col(big_integer(Placements::CaseId))
                .col(big_integer(Placements::ShelterOrgId))
                .col(blob(Placements::LocationEnc))
                .col(date(Placements::FromOn))
                .col(date_null(Placements::UntilOn))
                .col(big_integer(Placements::CreatedBy))
                .col(timestamp_with_time_zone(Placements::CreatedAt))
                .foreign_key(&mut fk(
                    Placements::Table,
                    Placements::CaseId,
                    Cases::Table,
                    Cases::Id,
                ))
                .foreign_key(&mut fk(
                    Placements::Table,
                    Placements::ShelterOrgId,
                    Organisations::Table,
                    Organisations::Id,
                ))
                .to_owned(),
        )
        .await?;
        index(
            m,
            "idx_placements_case",
            Placements::Table,
            Placements::CaseId,
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            Placements::Table.into_iden(),
            CaseServices::Table.into_iden(),
            Referrals::Table.into_iden(),
            Deadlines::Table.into_iden(),
            SmugglingDecisions::Table.into_iden(),
            TraffickingDecisions::Table.into_iden(),
            CaseElements::Table.into_iden(),
            Interviews::Table.into_iden(),
        ] {
            m.drop_table(Table::drop().table(t).to_owned()).await?;
        }
        Ok(())
    }
}

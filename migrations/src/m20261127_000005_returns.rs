//! Voluntary return: the return of a case with its stages and their log, the risk
//! assessments, citizenship-confirmation requests, travel documents, itinerary legs and
//! the jurisdiction's own checks. Personal details (who explained the consent, the
//! guardian, places, escorts, document numbers, assessments' findings, notes) are
//! encrypted; stages, dates and vocabulary values are not.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261127_000005_returns"
    }
}

#[derive(DeriveIden)]
enum Cases {
    Table,
    Id,
}
#[derive(DeriveIden)]
enum Consents {
    Table,
    Id,
}
#[derive(DeriveIden)]
enum Organisations {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Returns {
    Table,
    Id,
    CaseId,
    Stage,
    StageSince,
    ConsentId,
    ExplainedByEnc,
    RequestedBy,
    RequestedOn,
    DuringRecoveryPeriod,
    DestinationCountry,
    AgencyOrgId,
    PartnerPayloadEnc,
    GuardianEnc,
    BestInterestsOn,
    BestInterestsByEnc,
    CounselledOn,
    CounselledByEnc,
    ReceivingOrgId,
    ReceptionOn,
    DepartedOn,
    ReceivedOn,
    HandoverReferralId,
    CancelledReasonEnc,
    Version,
    CreatedBy,
    CreatedAt,
}

#[derive(DeriveIden)]
enum ReturnStages {
    Table,
    Id,
    ReturnId,
    Stage,
    At,
    ByUser,
}

#[derive(DeriveIden)]
enum RiskAssessments {
    Table,
    Id,
    ReturnId,
    Persecution,
    ReTrafficking,
    FindingsEnc,
    SafetyPlanEnc,
    AssessedOn,
    AuthorUserId,
    RecordedAt,
}

#[derive(DeriveIden)]
enum CitizenshipRequests {
    Table,
    Id,
    ReturnId,
    Authority,
    SentOn,
    DueOn,
    Reminders,
    LastReminderOn,
    Answer,
    AnsweredOn,
    CreatedBy,
    CreatedAt,
}

#[derive(DeriveIden)]
enum TravelDocuments {
    Table,
    Id,
    ReturnId,
    Kind,
    IssuedBy,
    NumberEnc,
    ValidUntil,
    CreatedBy,
    CreatedAt,
}

#[derive(DeriveIden)]
enum ItineraryLegs {
    Table,
    Id,
    ReturnId,
    TravelOn,
    FromEnc,
    ToEnc,
    EscortEnc,
    Status,
    CreatedBy,
    CreatedAt,
}

#[derive(DeriveIden)]
enum ReturnChecks {
    Table,
    Id,
    ReturnId,
    Requirement,
    DoneOn,
    NoteEnc,
    ByUser,
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
                .table(Returns::Table)
                .col(string_len(Returns::Id, 32).primary_key())
                .col(big_integer(Returns::CaseId))
                .col(string_len(Returns::Stage, 32))
                .col(timestamp_with_time_zone(Returns::StageSince))
                .col(big_integer(Returns::ConsentId))
                .col(blob(Returns::ExplainedByEnc))
                .col(string_len(Returns::RequestedBy, 32))
                .col(date(Returns::RequestedOn))
                .col(boolean(Returns::DuringRecoveryPeriod))
                .col(string_len(Returns::DestinationCountry, 2))
                .col(big_integer_null(Returns::AgencyOrgId))
                .col(blob_null(Returns::PartnerPayloadEnc))
                .col(blob_null(Returns::GuardianEnc))
                .col(date_null(Returns::BestInterestsOn))
                .col(blob_null(Returns::BestInterestsByEnc))
                .col(date_null(Returns::CounselledOn))
                .col(blob_null(Returns::CounselledByEnc))
                .col(big_integer_null(Returns::ReceivingOrgId))
                .col(date_null(Returns::ReceptionOn))
                .col(date_null(Returns::DepartedOn))
                .col(date_null(Returns::ReceivedOn))
                .col(big_integer_null(Returns::HandoverReferralId))
                .col(blob_null(Returns::CancelledReasonEnc))
                .col(big_integer(Returns::Version))
                .col(big_integer(Returns::CreatedBy))
                .col(timestamp_with_time_zone(Returns::CreatedAt))
                .foreign_key(&mut fk(
                    Returns::Table,
                    Returns::CaseId,
                    Cases::Table,
                    Cases::Id,
                ))
                .foreign_key(&mut fk(
                    Returns::Table,
                    Returns::ConsentId,
                    Consents::Table,
                    Consents::Id,
                ))
                .foreign_key(&mut fk(
                    Returns::Table,
                    Returns::AgencyOrgId,
                    Organisations::Table,
                    Organisations::Id,
                ))
                .foreign_key(&mut fk(
                    Returns::Table,
                    Returns::ReceivingOrgId,
                    Organisations::Table,
                    Organisations::Id,
                ))
                .to_owned(),
        )
        .await?;
        index(m, "idx_returns_case", Returns::Table, Returns::CaseId).await?;
        index(
            m,
            "idx_returns_agency",
            Returns::Table,
            Returns::AgencyOrgId,
        )
        .await?;

        m.create_table(
            Table::create()
                .table(ReturnStages::Table)
                .col(big_pk_auto(ReturnStages::Id))
                .col(string_len(ReturnStages::ReturnId, 32))
                .col(string_len(ReturnStages::Stage, 32))
                .col(timestamp_with_time_zone(ReturnStages::At))
                .col(big_integer(ReturnStages::ByUser))
                .foreign_key(&mut fk(
                    ReturnStages::Table,
                    ReturnStages::ReturnId,
                    Returns::Table,
                    Returns::Id,
                ))
                .to_owned(),
        )
        .await?;
        index(
            m,
            "idx_return_stages_return",
            ReturnStages::Table,
            ReturnStages::ReturnId,
        )
        .await?;

        m.create_table(
            Table::create()
                .table(RiskAssessments::Table)
                .col(string_len(RiskAssessments::Id, 32).primary_key())
                .col(string_len(RiskAssessments::ReturnId, 32))
                .col(string_len(RiskAssessments::Persecution, 16))
                .col(string_len(RiskAssessments::ReTrafficking, 16))
                .col(blob(RiskAssessments::FindingsEnc))
                .col(blob_null(RiskAssessments::SafetyPlanEnc))
                .col(date(RiskAssessments::AssessedOn))
                .col(big_integer(RiskAssessments::AuthorUserId))
                .col(timestamp_with_time_zone(RiskAssessments::RecordedAt))
                .foreign_key(&mut fk(
                    RiskAssessments::Table,
                    RiskAssessments::ReturnId,
                    Returns::Table,
                    Returns::Id,
                ))
                .to_owned(),
        )
        .await?;
        index(
            m,
            "idx_risk_assessments_return",
            RiskAssessments::Table,
            RiskAssessments::ReturnId,
        )
        .await?;

        m.create_table(
            Table::create()
                .table(CitizenshipRequests::Table)
                .col(string_len(CitizenshipRequests::Id, 32).primary_key())
                .col(string_len(CitizenshipRequests::ReturnId, 32))
                .col(string_len(CitizenshipRequests::Authority, 300))
                .col(date(CitizenshipRequests::SentOn))
                .col(date(CitizenshipRequests::DueOn))
                .col(integer(CitizenshipRequests::Reminders).default(0))
                .col(date_null(CitizenshipRequests::LastReminderOn))
                .col(string_len(CitizenshipRequests::Answer, 16))
                .col(date_null(CitizenshipRequests::AnsweredOn))
                .col(big_integer(CitizenshipRequests::CreatedBy))
                .col(timestamp_with_time_zone(CitizenshipRequests::CreatedAt))
                .foreign_key(&mut fk(
                    CitizenshipRequests::Table,
                    CitizenshipRequests::ReturnId,
                    Returns::Table,
                    Returns::Id,
                ))
                .to_owned(),
        )
        .await?;
        index(
            m,
            "idx_citizenship_requests_return",
            CitizenshipRequests::Table,
            CitizenshipRequests::ReturnId,
        )
        .await?;

        m.create_table(
            Table::create()
                .table(TravelDocuments::Table)
                .col(string_len(TravelDocuments::Id, 32).primary_key())
                .col(string_len(TravelDocuments::ReturnId, 32))
                .col(string_len(TravelDocuments::Kind, 32))
                .col(string_len(TravelDocuments::IssuedBy, 300))
                .col(blob_null(TravelDocuments::NumberEnc))
                .col(date(TravelDocuments::ValidUntil))
                .col(big_integer(TravelDocuments::CreatedBy))
                .col(timestamp_with_time_zone(TravelDocuments::CreatedAt))
                .foreign_key(&mut fk(
                    TravelDocuments::Table,
                    TravelDocuments::ReturnId,
                    Returns::Table,
                    Returns::Id,
                ))
                .to_owned(),
        )
        .await?;
        index(
            m,
            "idx_travel_documents_return",
            TravelDocuments::Table,
            TravelDocuments::ReturnId,
        )
        .await?;

        m.create_table(
            Table::create()
                .table(ItineraryLegs::Table)
                .col(string_len(ItineraryLegs::Id, 32).primary_key())
                .col(string_len(ItineraryLegs::ReturnId, 32))
                .col(date(ItineraryLegs::TravelOn))
                .col(blob(ItineraryLegs::FromEnc))
                .col(blob(ItineraryLegs::ToEnc))
                .col(blob_null(ItineraryLegs::EscortEnc))
                .col(string_len(ItineraryLegs::Status, 16))
                .col(big_integer(ItineraryLegs::CreatedBy))
                .col(timestamp_with_time_zone(ItineraryLegs::CreatedAt))
                .foreign_key(&mut fk(
                    ItineraryLegs::Table,
                    ItineraryLegs::ReturnId,
                    Returns::Table,
                    Returns::Id,
                ))
                .to_owned(),
        )
        .await?;
        index(
            m,
            "idx_itinerary_legs_return",
            ItineraryLegs::Table,
            ItineraryLegs::ReturnId,
        )
        .await?;

        m.create_table(
            Table::create()
                .table(ReturnChecks::Table)
                .col(string_len(ReturnChecks::Id, 32).primary_key())
                .col(string_len(ReturnChecks::ReturnId, 32))
                .col(string_len(ReturnChecks::Requirement, 64))
                .col(date(ReturnChecks::DoneOn))
                .col(blob_null(ReturnChecks::NoteEnc))
                .col(big_integer(ReturnChecks::ByUser))
                .col(timestamp_with_time_zone(ReturnChecks::CreatedAt))
                .foreign_key(&mut fk(
                    ReturnChecks::Table,
                    ReturnChecks::ReturnId,
                    Returns::Table,
                    Returns::Id,
                ))
                .to_owned(),
        )
        .await?;
        index(
            m,
            "idx_return_checks_return",
            ReturnChecks::Table,
            ReturnChecks::ReturnId,
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            ReturnChecks::Table.into_iden(),
            ItineraryLegs::Table.into_iden(),
            TravelDocuments::Table.into_iden(),
            CitizenshipRequests::Table.into_iden(),
            RiskAssessments::Table.into_iden(),
            ReturnStages::Table.into_iden(),
            Returns::Table.into_iden(),
        ] {
            m.drop_table(Table::drop().table(t).to_owned()).await?;
        }
        Ok(())
    }
}

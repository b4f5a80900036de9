//! Requests to confirm citizenship (§37): sent to an authority with a due date, reminded,
//! answered; overdue ones show their age.

use super::*;

#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::ToSchema)]
pub struct CitizenshipInput {
    /// The origin-country authority asked (e.g. an embassy or consulate).
    pub authority: String,
    #[serde(default)]
    pub sent_on: Option<String>,
    /// When an answer is due; 30 days after sending when empty.
    #[serde(default)]
    pub due_on: Option<String>,
}

#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::ToSchema)]
pub struct CitizenshipAnswerInput {
    /// confirmed, refused or no_answer.
    pub answer: String,
    #[serde(default)]
    pub answered_on: Option<String>,
}

#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct CitizenshipView {
    pub id: String,
    pub authority: String,
    pub sent_on: NaiveDate,
    pub due_on: NaiveDate,
    pub reminders: i32,
    pub last_reminder_on: Option<NaiveDate>,
    pub answer: CitizenshipAnswer,
    pub answered_on: Option<NaiveDate>,
    pub clock: RequestClock,
}

impl Services {
    /// Ask an origin-country authority to confirm citizenship (not for a stateless person).
    pub async fn request_citizenship(
        &self,
        actor: &Actor,
        reference: &str,
        input: &CitizenshipInput,
        route: Route<'_>,
    ) -> Result<String> {
        let authority = domain::parse_line("authority", &input.authority, 300)?;
        let sent_on = not_future(
            "sent_on",
            day_or_today("sent_on", input.sent_on.as_deref())?,
        )?;
        let due_on = match input.due_on.as_deref().map(str::trim) {
            None | Some("") => sent_on.checked_add_days(Days::new(30)).unwrap_or(sent_on),
            Some(s) => day("due_on", s)?,
        };
        let txn = begin_write(&self.db).await?;
        let l = self
            .return_case_for(&txn, actor, reference, CaseAction::EditReturn, route)
            .await?;
        Self::require_open(&l)?;
        let person = self.person_facts(&txn, &l.c).await?;
        rules::check_citizenship_request(person.stateless, sent_on, due_on)?;
        let id = random_token(16)?;
        citizenship_request::ActiveModel {
            id: Set(id.clone()),
            return_id: Set(l.r.id.clone()),
            authority: Set(authority),
            sent_on: Set(sent_on),
            due_on: Set(due_on),
            reminders: Set(0),
            last_reminder_on: Set(None),
            answer: Set(CitizenshipAnswer::Pending.as_str().into()),
            answered_on: Set(None),
            created_by: Set(actor.user_id),
            created_at: Set(Utc::now()),
        }
        .insert(&txn)
        .await?;
        Self::commit_return(txn, actor, &l, AuditAction::Create, route).await?;
        Ok(id)
    }

    async fn citizenship_for_edit(
        &self,
        txn: &DatabaseTransaction,
        actor: &Actor,
        reference: &str,
        id: &str,
        route: Route<'_>,
    ) -> Result<(Loaded, citizenship_request::Model)> {
        let l = self
            .return_case_for(txn, actor, reference, CaseAction::EditReturn, route)
            .await?;
        Self::require_open(&l)?;
        let q = l
            .citizenship
            .iter()
            .find(|q| q.id == id)
            .cloned()
            .ok_or(ServiceError::NotFound("citizenship_request"))?;
        if q.answer != CitizenshipAnswer::Pending.as_str() {
            return Err(ServiceError::Conflict(
                "this citizenship request was already answered".into(),
            ));
        }
        Ok((l, q))
    }

    /// Record that a reminder was sent for a pending citizenship request.
    pub async fn remind_citizenship(
        &self,
        actor: &Actor,
        reference: &str,
        id: &str,
        route: Route<'_>,
    ) -> Result<()> {
        let txn = begin_write(&self.db).await?;
        let (l, q) = self
            .citizenship_for_edit(&txn, actor, reference, id, route)
            .await?;
        let n = q.reminders;
        let mut am = q.into_active_model();
        am.reminders = Set(n + 1);
        am.last_reminder_on = Set(Some(Utc::now().date_naive()));
        am.update(&txn).await?;
        Self::commit_return(txn, actor, &l, AuditAction::Update, route).await
    }

    /// Record the origin state's answer.
    pub async fn answer_citizenship(
        &self,
        actor: &Actor,
        reference: &str,
        id: &str,
        input: &CitizenshipAnswerInput,
        route: Route<'_>,
    ) -> Result<()> {
        let answer = CitizenshipAnswer::parse(&input.answer)?;
        if answer == CitizenshipAnswer::Pending {
            return Err(Invalid::new("answer", "must be confirmed, refused or no_answer").into());
        }
        let on = not_future(
            "answered_on",
            day_or_today("answered_on", input.answered_on.as_deref())?,
        )?;
        let txn = begin_write(&self.db).await?;
        let (l, q) = self
            .citizenship_for_edit(&txn, actor, reference, id, route)
            .await?;
        if on < q.sent_on {
            return Err(
                Invalid::new("answered_on", "cannot be before the request was sent").into(),
            );
        }
        let mut am = q.into_active_model();
        am.answer = Set(answer.as_str().into());
        am.answered_on = Set(Some(on));
        am.update(&txn).await?;
        if answer != CitizenshipAnswer::Confirmed {
            // Refused, or no answer at all: the return cannot go on as planned.
            self.tell_case_advocate(
                &txn,
                &l.c,
                actor,
                crate::notify::NotificationKind::CitizenshipNotConfirmed,
                "return",
            )
            .await?;
        }
        Self::commit_return(txn, actor, &l, AuditAction::Update, route).await
    }
}

//! What demo seeding needs from the core: the demo marker, and placing seeded cases at
//! their stage. Only ever used on a database marked as the demo world.

use super::{Result, ServiceError, Services};
use crate::domain::{CaseRef, Stage};
use crate::store::First;
use crate::store::begin_write;
use crate::store::entity::{case, instance_meta, organisation};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter,
};

const DEMO_KEY: &str = "demo";

impl Services {
    pub async fn is_demo(&self) -> Result<bool> {
        Ok(instance_meta::Entity::find_by_id(DEMO_KEY.to_owned())
            .first(&self.db)
            .await?
            .is_some_and(|m| m.value == "true"))
    }

    /// Is this database still empty (no organisation)?
    pub async fn is_empty(&self) -> Result<bool> {
        Ok(organisation::Entity::find().count(&self.db).await? == 0)
    }

    /// Mark an empty database as the demo world. Refuses a database that holds anything.
    pub async fn mark_demo(&self) -> Result<()> {
        let txn = begin_write(&self.db).await?;
        if organisation::Entity::find().count(&txn).await? > 0 {
            return Err(ServiceError::Refused(
                "this database already holds data that is not the demo world; demo seeding is refused. Use another --data-dir for the demo".into(),
            ));
        }
        instance_meta::ActiveModel {
            key: Set(DEMO_KEY.into()),
            value: Set("true".into()),
        }
        .insert(&txn)
        .await?;
        txn.commit().await?;
        Ok(())
    }

    /// Put a seeded case at a stage of the demo. Refused outside the demo world: real
    /// cases change stage only through the transition rules of later stages.
    pub async fn place_demo_case(&self, reference: &CaseRef, stage: Stage) -> Result<()> {
        if !self.is_demo().await? {
            return Err(ServiceError::Refused(
                "stages are only placed directly in the demo world".into(),
            ));
        }
        case::Entity::update_many()
            .col_expr(case::Column::Stage, Expr::value(stage.as_str()))
            .filter(case::Column::Reference.eq(reference.as_str()))
            .exec(&self.db)
            .await?;
        Ok(())
    }
}

//! What the benchmarks share: the machine's load, and the removal of the PostgreSQL
//! database `spawn_app` created for a run.

use crate::{Backend, TestApp};
use sea_orm::ConnectionTrait;

/// The load average (1, 5 and 15 minutes), for the benchmarks' reports.
pub fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "n/a".into())
}

/// Remove the PostgreSQL database `spawn_app` created (best effort; SQLite's goes with
/// its temporary directory).
pub async fn drop_postgres(app: &TestApp) {
    if let Backend::Postgres { admin_url, db_name } = &app.backend {
        app.services.db.clone().close().await.ok();
        let dropped = async {
            let admin = sea_orm::Database::connect(admin_url.as_str()).await?;
            admin
                .execute_unprepared(&format!("DROP DATABASE IF EXISTS {db_name} WITH (FORCE)"))
                .await?;
            admin.close().await
        }
        .await;
        if let Err(e) = dropped {
            eprintln!("could not drop the bench database {db_name}: {e}");
        }
    }
}

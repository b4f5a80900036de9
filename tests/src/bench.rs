//! What the benchmarks share: the machine's load, the PostgreSQL server to run on too,
//! and the removal of the PostgreSQL database `spawn_app` created for a run.

use crate::{Backend, TestApp, postgres_for_pg_only_tests};
use sea_orm::ConnectionTrait;
use std::time::Duration;

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

/// The PostgreSQL server to run on too, if one answers within five seconds.
pub async fn reachable_postgres() -> Option<String> {
    let url = postgres_for_pg_only_tests();
    match tokio::time::timeout(Duration::from_secs(5), sea_orm::Database::connect(&url)).await {
        Ok(Ok(db)) => {
            db.close().await.ok();
            Some(url)
        }
        Ok(Err(e)) => {
            println!("PostgreSQL at {url}: {e}");
            None
        }
        Err(_) => {
            println!("PostgreSQL at {url}: no answer in 5 s");
            None
        }
    }
}

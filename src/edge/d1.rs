//! Small helpers over D1 queries: one place that binds, runs and turns D1's errors into text
//! (callers answer 503 with it and log the detail).

use serde::de::DeserializeOwned;
use wasm_bindgen::JsValue;
use worker::{D1Database, Env};

/// The `DB` binding.
pub fn db(env: &Env) -> Result<D1Database, String> {
    env.d1("DB").map_err(|e| e.to_string())
}

/// Every row of `sql` with `binds`.
pub async fn all<T: DeserializeOwned>(
    db: &D1Database,
    sql: &str,
    binds: &[JsValue],
) -> Result<Vec<T>, String> {
    db.prepare(sql)
        .bind(binds)
        .map_err(|e| e.to_string())?
        .all()
        .await
        .map_err(|e| e.to_string())?
        .results()
        .map_err(|e| e.to_string())
}

/// The first row of `sql` with `binds` (or one column of it, with `column`).
pub async fn first<T: DeserializeOwned>(
    db: &D1Database,
    sql: &str,
    binds: &[JsValue],
    column: Option<&str>,
) -> Result<Option<T>, String> {
    db.prepare(sql)
        .bind(binds)
        .map_err(|e| e.to_string())?
        .first::<T>(column)
        .await
        .map_err(|e| e.to_string())
}

/// Runs a statement.
pub async fn run(db: &D1Database, sql: &str, binds: &[JsValue]) -> Result<(), String> {
    db.prepare(sql)
        .bind(binds)
        .map_err(|e| e.to_string())?
        .run()
        .await
        .map_err(|e| e.to_string())?;
    Ok(())
}

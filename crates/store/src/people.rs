//! Aspirants (aspirantes) and their collectors (auxiliares).

use apoyo_domain::access::Role;
use serde::Serialize;
use serde_json::json;
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::accounts::{NewUser, insert_user};
use crate::audit::{self, Actor};
use crate::error::{Conflict, RuleViolation};
use crate::{Store, StoreError, clock};

#[derive(Clone, Debug)]
pub struct NewAspirant {
    pub process_id: i64,
    pub office_id: i64,
    pub name: String,
    pub email: String,
    pub password_hash: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Aspirant {
    pub id: i64,
    pub process_id: i64,
    pub office_id: i64,
    pub user_id: i64,
    pub name: String,
    pub email: String,
    pub created_at: String,
    pub active_collectors: i64,
}

#[derive(Clone, Debug)]
pub struct NewCollector {
    pub aspirant_id: i64,
    pub name: String,
    pub email: String,
    pub clave_elector: String,
    pub password_hash: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Collector {
    pub id: i64,
    pub process_id: i64,
    pub aspirant_id: i64,
    pub user_id: i64,
    pub name: String,
    pub email: String,
    pub clave_elector: String,
    pub active: bool,
    pub created_at: String,
}

const ASPIRANT_SELECT: &str = "SELECT a.id, a.process_id, a.office_id, a.user_id, a.name, u.email, a.created_at, \
     (SELECT COUNT(*) FROM collectors c WHERE c.aspirant_id = a.id AND c.active = 1) AS active_collectors \
     FROM aspirants a JOIN users u ON u.id = a.user_id";
const COLLECTOR_SELECT: &str = "SELECT c.id, c.process_id, c.aspirant_id, c.user_id, c.name, u.email, c.clave_elector, \
     c.active, c.created_at FROM collectors c JOIN users u ON u.id = c.user_id";

fn aspirant_from_row(row: &AnyRow) -> Result<Aspirant, sqlx::Error> {
    Ok(Aspirant {
        id: row.try_get("id")?,
        process_id: row.try_get("process_id")?,
        office_id: row.try_get("office_id")?,
        user_id: row.try_get("user_id")?,
        name: row.try_get("name")?,
        email: row.try_get("email")?,
        created_at: row.try_get("created_at")?,
        active_collectors: row.try_get("active_collectors")?,
    })
}

fn collector_from_row(row: &AnyRow) -> Result<Collector, sqlx::Error> {
    Ok(Collector {
        id: row.try_get("id")?,
        process_id: row.try_get("process_id")?,
        aspirant_id: row.try_get("aspirant_id")?,
        user_id: row.try_get("user_id")?,
        name: row.try_get("name")?,
        email: row.try_get("email")?,
        clave_elector: row.try_get("clave_elector")?,
        active: row.try_get::<i64, _>("active")? == 1,
        created_at: row.try_get("created_at")?,
    })
}

impl Store {
    /// Registers an aspirant for one office of one process, with their account.
    pub async fn create_aspirant(
        &self,
        actor: &Actor,
        new: NewAspirant,
    ) -> Result<Aspirant, StoreError> {
        let mut tx = self.begin().await?;
        let office_process: i64 =
            sqlx::query_scalar("SELECT process_id FROM offices WHERE id = $1")
                .bind(new.office_id)
                .fetch_optional(&mut *tx)
                .await
                .map_err(StoreError::Database)?
                .ok_or(StoreError::NotFound("office"))?;
        if office_process != new.process_id {
            return Err(StoreError::Rule(RuleViolation::OfficeOfAnotherProcess));
        }
        let user_id = insert_user(
            &mut tx,
            actor,
            &NewUser {
                email: new.email.clone(),
                name: new.name.clone(),
                role: Role::Aspirant,
                password_hash: new.password_hash.clone(),
                must_change_password: true,
            },
        )
        .await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO aspirants (process_id, office_id, user_id, name, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(new.process_id)
        .bind(new.office_id)
        .bind(user_id)
        .bind(new.name.trim())
        .bind(clock::now())
        .fetch_one(&mut *tx)
        .await
        .map_err(StoreError::Database)?;
        audit::append(
            &mut tx,
            actor,
            "aspirant.create",
            "aspirant",
            id,
            None,
            Some(json!({"process_id": new.process_id, "office_id": new.office_id, "name": new.name.trim(), "user_id": user_id})),
        )
        .await?;
        tx.commit().await.map_err(StoreError::Database)?;
        self.aspirant(id)
            .await?
            .ok_or(StoreError::NotFound("aspirant"))
    }

    pub async fn aspirant(&self, id: i64) -> Result<Option<Aspirant>, StoreError> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "{ASPIRANT_SELECT} WHERE a.id = $1"
        )))
        .bind(id)
        .fetch_optional(&self.pool)
        .await
        .map_err(StoreError::Database)?;
        row.as_ref()
            .map(aspirant_from_row)
            .transpose()
            .map_err(StoreError::Database)
    }

    /// Aspirants of one process, or of all processes.
    pub async fn aspirants(&self, process_id: Option<i64>) -> Result<Vec<Aspirant>, StoreError> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "{ASPIRANT_SELECT} WHERE ($1 IS NULL OR a.process_id = $1) ORDER BY a.id"
        )))
        .bind(process_id)
        .fetch_all(&self.pool)
        .await
        .map_err(StoreError::Database)?;
        rows.iter()
            .map(aspirant_from_row)
            .collect::<Result<_, _>>()
            .map_err(StoreError::Database)
    }

    /// Registers a collector for an aspirant. The person must be on the Lista Nominal of
    /// the process's roll snapshot and must not collect for anyone else in the process.
    pub async fn create_collector(
        &self,
        actor: &Actor,
        new: NewCollector,
    ) -> Result<Collector, StoreError> {
        let clave = new.clave_elector.trim().to_uppercase();
        let mut tx = self.begin().await?;
        let (process_id, snapshot_id): (i64, i64) = sqlx::query_as(
            "SELECT a.process_id, p.roll_snapshot_id FROM aspirants a JOIN processes p ON p.id = a.process_id WHERE a.id = $1",
        )
        .bind(new.aspirant_id)
        .fetch_optional(&mut *tx)
        .await
        .map_err(StoreError::Database)?
        .ok_or(StoreError::NotFound("aspirant"))?;
        let status: Option<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT status FROM {} WHERE clave_elector = $1 AND status <> 'reemplazada'",
            crate::roll_table::records_table(snapshot_id)
        )))
        .bind(&clave)
        .fetch_optional(&mut *tx)
        .await
        .map_err(StoreError::Database)?;
        match status.as_deref() {
            None => return Err(StoreError::Rule(RuleViolation::CollectorNotOnRoll(clave))),
            Some("lista_nominal") => {}
            Some(other) => {
                return Err(StoreError::Rule(RuleViolation::CollectorNotCurrent {
                    clave,
                    status: other.to_owned(),
                }));
            }
        }
        let existing: Option<i64> = sqlx::query_scalar(
            "SELECT aspirant_id FROM collectors WHERE process_id = $1 AND clave_elector = $2",
        )
        .bind(process_id)
        .bind(&clave)
        .fetch_optional(&mut *tx)
        .await
        .map_err(StoreError::Database)?;
        if let Some(aspirant_id) = existing {
            return Err(StoreError::Conflict(Conflict::CollectorTaken {
                clave,
                aspirant_id,
            }));
        }
        let user_id = insert_user(
            &mut tx,
            actor,
            &NewUser {
                email: new.email.clone(),
                name: new.name.clone(),
                role: Role::Collector,
                password_hash: new.password_hash.clone(),
                must_change_password: true,
            },
        )
        .await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO collectors (process_id, aspirant_id, user_id, name, clave_elector, active, created_at) \
             VALUES ($1, $2, $3, $4, $5, 1, $6) RETURNING id",
        )
        .bind(process_id)
        .bind(new.aspirant_id)
        .bind(user_id)
        .bind(new.name.trim())
        .bind(&clave)
        .bind(clock::now())
        .fetch_one(&mut *tx)
        .await
        .map_err(StoreError::Database)?;
        audit::append(
            &mut tx,
            actor,
            "collector.create",
            "collector",
            id,
            None,
            Some(json!({"aspirant_id": new.aspirant_id, "name": new.name.trim(), "clave_elector": clave, "user_id": user_id})),
        )
        .await?;
        tx.commit().await.map_err(StoreError::Database)?;
        self.collector(id)
            .await?
            .ok_or(StoreError::NotFound("collector"))
    }

    pub async fn collector(&self, id: i64) -> Result<Option<Collector>, StoreError> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "{COLLECTOR_SELECT} WHERE c.id = $1"
        )))
        .bind(id)
        .fetch_optional(&self.pool)
        .await
        .map_err(StoreError::Database)?;
        row.as_ref()
            .map(collector_from_row)
            .transpose()
            .map_err(StoreError::Database)
    }

    pub async fn collectors(&self, aspirant_id: i64) -> Result<Vec<Collector>, StoreError> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "{COLLECTOR_SELECT} WHERE c.aspirant_id = $1 ORDER BY c.id"
        )))
        .bind(aspirant_id)
        .fetch_all(&self.pool)
        .await
        .map_err(StoreError::Database)?;
        rows.iter()
            .map(collector_from_row)
            .collect::<Result<_, _>>()
            .map_err(StoreError::Database)
    }

    /// Deactivating also closes the collector's account and ends their sessions at once.
    pub async fn set_collector_active(
        &self,
        actor: &Actor,
        id: i64,
        active: bool,
    ) -> Result<Collector, StoreError> {
        let before = self
            .collector(id)
            .await?
            .ok_or(StoreError::NotFound("collector"))?;
        let mut tx = self.begin().await?;
        sqlx::query("UPDATE collectors SET active = $1 WHERE id = $2")
            .bind(i64::from(active))
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(StoreError::Database)?;
        sqlx::query("UPDATE users SET active = $1 WHERE id = $2")
            .bind(i64::from(active))
            .bind(before.user_id)
            .execute(&mut *tx)
            .await
            .map_err(StoreError::Database)?;
        if !active {
            sqlx::query("DELETE FROM sessions WHERE user_id = $1")
                .bind(before.user_id)
                .execute(&mut *tx)
                .await
                .map_err(StoreError::Database)?;
        }
        audit::append(
            &mut tx,
            actor,
            if active {
                "collector.activate"
            } else {
                "collector.deactivate"
            },
            "collector",
            id,
            Some(json!({"active": before.active})),
            Some(json!({"active": active})),
        )
        .await?;
        tx.commit().await.map_err(StoreError::Database)?;
        self.collector(id)
            .await?
            .ok_or(StoreError::NotFound("collector"))
    }
}

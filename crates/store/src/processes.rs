//! Processes (convocatorias) and their offices (cargos) with territory and thresholds.

use apoyo_domain::Date;
use apoyo_domain::threshold::{DispersionRule, ThresholdRule};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::Row;

use crate::audit::{self, Actor};
use crate::error::{Conflict, RuleViolation};
use crate::{Store, StoreError, clock};

/// What the support is for. Data, not code: new kinds are new values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProcessKind {
    /// Candidatura independiente.
    IndependentCandidacy,
    /// Consulta popular.
    PopularConsultation,
    /// Revocación de mandato.
    RecallReferendum,
    /// Afiliación a un nuevo partido político.
    PartyAffiliation,
}

impl ProcessKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::IndependentCandidacy => "independent_candidacy",
            Self::PopularConsultation => "popular_consultation",
            Self::RecallReferendum => "recall_referendum",
            Self::PartyAffiliation => "party_affiliation",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [
            Self::IndependentCandidacy,
            Self::PopularConsultation,
            Self::RecallReferendum,
            Self::PartyAffiliation,
        ]
        .into_iter()
        .find(|k| k.as_str() == text)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OfficeKind {
    /// Ayuntamiento of a municipio.
    Ayuntamiento,
    /// Diputación local (distrito local).
    LocalDistrict,
    /// Gubernatura: the whole state.
    State,
}

impl OfficeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ayuntamiento => "ayuntamiento",
            Self::LocalDistrict => "local_district",
            Self::State => "state",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [Self::Ayuntamiento, Self::LocalDistrict, Self::State]
            .into_iter()
            .find(|k| k.as_str() == text)
    }
}

#[derive(Clone, Debug)]
pub struct NewProcess {
    pub name: String,
    pub kind: ProcessKind,
    /// First and last day of collection (OPL local dates).
    pub collection_starts_on: Date,
    pub collection_ends_on: Date,
    /// Hours after the last day during which supports captured in time may still be sent.
    pub grace_hours: u32,
    /// Name of the roll snapshot the process verifies against.
    pub roll_snapshot: String,
    /// (entidad, municipio) pairs where paper supports are allowed.
    pub paper_municipalities: Vec<(u8, u16)>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Process {
    pub id: i64,
    pub name: String,
    pub kind: ProcessKind,
    pub collection_starts_on: Date,
    pub collection_ends_on: Date,
    pub grace_hours: u32,
    pub roll_snapshot_id: i64,
    pub roll_snapshot_name: String,
    pub cut_date: Date,
    pub paper_municipalities: Vec<(u8, u16)>,
    pub created_at: String,
}

#[derive(Clone, Debug)]
pub struct NewOffice {
    pub kind: OfficeKind,
    pub name: String,
    pub state: u8,
    /// Required for an ayuntamiento: its territory is every sección of the municipio.
    pub municipality: Option<u16>,
    pub district: Option<u16>,
    /// Explicit territory (required for a local district); otherwise derived.
    pub sections: Option<Vec<u16>>,
    pub threshold: ThresholdRule,
    pub dispersion: DispersionRule,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Office {
    pub id: i64,
    pub process_id: i64,
    pub kind: OfficeKind,
    pub name: String,
    pub state: u8,
    pub municipality: Option<u16>,
    pub district: Option<u16>,
    pub threshold: ThresholdRule,
    pub dispersion: DispersionRule,
    /// Lista Nominal of the territory at the cut.
    pub territory_roll: i64,
    pub territory_sections: i64,
    pub required_supports: i64,
}

fn date(text: &str) -> Result<Date, StoreError> {
    Date::parse_iso(text).map_err(|e| StoreError::Corrupt(e.to_string()))
}

impl Store {
    pub async fn create_process(
        &self,
        actor: &Actor,
        new: NewProcess,
    ) -> Result<Process, StoreError> {
        if new.collection_ends_on < new.collection_starts_on {
            return Err(StoreError::Rule(RuleViolation::PeriodReversed));
        }
        let mut tx = self.begin().await?;
        let snapshot_id: i64 = sqlx::query_scalar("SELECT id FROM roll_snapshots WHERE name = $1")
            .bind(&new.roll_snapshot)
            .fetch_optional(&mut *tx)
            .await
            .map_err(StoreError::Database)?
            .ok_or_else(|| StoreError::SnapshotNotFound(new.roll_snapshot.clone()))?;
        let inserted = sqlx::query_scalar::<_, i64>(
            "INSERT INTO processes (name, kind, collection_starts_on, collection_ends_on, grace_hours, roll_snapshot_id, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        )
        .bind(new.name.trim())
        .bind(new.kind.as_str())
        .bind(new.collection_starts_on.to_string())
        .bind(new.collection_ends_on.to_string())
        .bind(i64::from(new.grace_hours))
        .bind(snapshot_id)
        .bind(clock::now())
        .fetch_one(&mut *tx)
        .await;
        let id = match inserted {
            Ok(id) => id,
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
                return Err(StoreError::Conflict(Conflict::ProcessNameTaken(
                    new.name.trim().to_owned(),
                )));
            }
            Err(e) => return Err(StoreError::Database(e)),
        };
        for (state, municipality) in &new.paper_municipalities {
            sqlx::query("INSERT INTO process_paper_municipalities (process_id, state, municipality) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING")
                .bind(id)
                .bind(i64::from(*state))
                .bind(i64::from(*municipality))
                .execute(&mut *tx)
                .await
                .map_err(StoreError::Database)?;
        }
        audit::append(
            &mut tx,
            actor,
            "process.create",
            "process",
            id,
            None,
            Some(json!({
                "name": new.name.trim(), "kind": new.kind.as_str(),
                "collection_starts_on": new.collection_starts_on, "collection_ends_on": new.collection_ends_on,
                "grace_hours": new.grace_hours, "roll_snapshot": new.roll_snapshot,
                "paper_municipalities": new.paper_municipalities,
            })),
        )
        .await?;
        tx.commit().await.map_err(StoreError::Database)?;
        self.process(id)
            .await?
            .ok_or(StoreError::NotFound("process"))
    }

    /// Makes the process verify against another imported roll snapshot and requests a
    /// batch re-verification of all its supports (run by the background worker); any
    /// earlier run still waiting is superseded. The thresholds and the dispersion basis
    /// stay those of the cut the offices were created with. Returns the process and the
    /// id of the re-verification run.
    pub async fn change_roll_snapshot(
        &self,
        actor: &Actor,
        process_id: i64,
        snapshot_name: &str,
    ) -> Result<(Process, i64), StoreError> {
        let mut tx = self.begin().await?;
        let before: (i64, String) = sqlx::query_as(
            "SELECT s.id, s.name FROM processes p JOIN roll_snapshots s ON s.id = p.roll_snapshot_id \
             WHERE p.id = $1",
        )
        .bind(process_id)
        .fetch_optional(&mut *tx)
        .await
        .map_err(StoreError::Database)?
        .ok_or(StoreError::NotFound("process"))?;
        let snapshot_id: i64 = sqlx::query_scalar("SELECT id FROM roll_snapshots WHERE name = $1")
            .bind(snapshot_name)
            .fetch_optional(&mut *tx)
            .await
            .map_err(StoreError::Database)?
            .ok_or_else(|| StoreError::SnapshotNotFound(snapshot_name.to_owned()))?;
        let now = clock::now();
        sqlx::query("UPDATE processes SET roll_snapshot_id = $1 WHERE id = $2")
            .bind(snapshot_id)
            .bind(process_id)
            .execute(&mut *tx)
            .await
            .map_err(StoreError::Database)?;
        sqlx::query(
            "UPDATE reverification_runs SET status = 'superseded', finished_at = $1 \
             WHERE process_id = $2 AND status = 'pending'",
        )
        .bind(&now)
        .bind(process_id)
        .execute(&mut *tx)
        .await
        .map_err(StoreError::Database)?;
        let run_id: i64 = sqlx::query_scalar(
            "INSERT INTO reverification_runs (process_id, snapshot_id, requested_at) VALUES ($1, $2, $3) \
             RETURNING id",
        )
        .bind(process_id)
        .bind(snapshot_id)
        .bind(&now)
        .fetch_one(&mut *tx)
        .await
        .map_err(StoreError::Database)?;
        audit::append(
            &mut tx,
            actor,
            "process.roll_snapshot",
            "process",
            process_id,
            Some(json!({ "roll_snapshot": before.1 })),
            Some(json!({ "roll_snapshot": snapshot_name, "reverification_run": run_id })),
        )
        .await?;
        tx.commit().await.map_err(StoreError::Database)?;
        let process = self
            .process(process_id)
            .await?
            .ok_or(StoreError::NotFound("process"))?;
        Ok((process, run_id))
    }

    pub async fn processes(&self) -> Result<Vec<Process>, StoreError> {
        let ids: Vec<i64> = sqlx::query_scalar("SELECT id FROM processes ORDER BY id")
            .fetch_all(&self.pool)
            .await
            .map_err(StoreError::Database)?;
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            if let Some(process) = self.process(id).await? {
                out.push(process);
            }
        }
        Ok(out)
    }

    pub async fn process(&self, id: i64) -> Result<Option<Process>, StoreError> {
        let Some(row) = sqlx::query(
            "SELECT p.id, p.name, p.kind, p.collection_starts_on, p.collection_ends_on, p.grace_hours, \
             p.roll_snapshot_id, s.name AS snapshot_name, s.cut_date, p.created_at \
             FROM processes p JOIN roll_snapshots s ON s.id = p.roll_snapshot_id WHERE p.id = $1",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await
        .map_err(StoreError::Database)?
        else {
            return Ok(None);
        };
        let paper: Vec<(i64, i64)> = sqlx::query_as(
            "SELECT state, municipality FROM process_paper_municipalities WHERE process_id = $1 ORDER BY state, municipality",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await
        .map_err(StoreError::Database)?;
        let get = |column: &str| -> Result<String, StoreError> {
            row.try_get(column).map_err(StoreError::Database)
        };
        let kind = get("kind")?;
        Ok(Some(Process {
            id,
            name: get("name")?,
            kind: ProcessKind::parse(&kind)
                .ok_or_else(|| StoreError::Corrupt(format!("process kind {kind:?}")))?,
            collection_starts_on: date(&get("collection_starts_on")?)?,
            collection_ends_on: date(&get("collection_ends_on")?)?,
            grace_hours: u32::try_from(
                row.try_get::<i64, _>("grace_hours")
                    .map_err(StoreError::Database)?,
            )
            .unwrap_or(0),
            roll_snapshot_id: row
                .try_get("roll_snapshot_id")
                .map_err(StoreError::Database)?,
            roll_snapshot_name: get("snapshot_name")?,
            cut_date: date(&get("cut_date")?)?,
            paper_municipalities: paper
                .into_iter()
                .map(|(s, m)| (u8::try_from(s).unwrap_or(0), u16::try_from(m).unwrap_or(0)))
                .collect(),
            created_at: get("created_at")?,
        }))
    }

    /// Creates an office with its territory and computes its required supports from the
    /// process's roll snapshot (Lista Nominal of the territory × threshold, rounded up).
    pub async fn create_office(
        &self,
        actor: &Actor,
        process_id: i64,
        new: NewOffice,
    ) -> Result<Office, StoreError> {
        let mut tx = self.begin().await?;
        let snapshot_id: i64 =
            sqlx::query_scalar("SELECT roll_snapshot_id FROM processes WHERE id = $1")
                .bind(process_id)
                .fetch_optional(&mut *tx)
                .await
                .map_err(StoreError::Database)?
                .ok_or(StoreError::NotFound("process"))?;

        let sections: Vec<i64> = match (&new.sections, new.kind, new.municipality) {
            (Some(list), _, _) => {
                let mut found = Vec::with_capacity(list.len());
                for section in list {
                    let exists: Option<i64> = sqlx::query_scalar(
                        "SELECT section FROM roll_section_counts WHERE snapshot_id = $1 AND state = $2 AND section = $3",
                    )
                    .bind(snapshot_id)
                    .bind(i64::from(new.state))
                    .bind(i64::from(*section))
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(StoreError::Database)?;
                    found.push(exists.ok_or(StoreError::Rule(RuleViolation::UnknownSection(*section)))?);
                }
                found.sort_unstable();
                found.dedup();
                found
            }
            (None, OfficeKind::Ayuntamiento, Some(municipality)) => sqlx::query_scalar(
                "SELECT section FROM roll_section_counts WHERE snapshot_id = $1 AND state = $2 AND municipality = $3 ORDER BY section",
            )
            .bind(snapshot_id)
            .bind(i64::from(new.state))
            .bind(i64::from(municipality))
            .fetch_all(&mut *tx)
            .await
            .map_err(StoreError::Database)?,
            (None, OfficeKind::State, _) => sqlx::query_scalar(
                "SELECT section FROM roll_section_counts WHERE snapshot_id = $1 AND state = $2 ORDER BY section",
            )
            .bind(snapshot_id)
            .bind(i64::from(new.state))
            .fetch_all(&mut *tx)
            .await
            .map_err(StoreError::Database)?,
            (None, _, _) => Vec::new(),
        };
        if sections.is_empty() {
            return Err(StoreError::Rule(RuleViolation::EmptyTerritory));
        }

        let inserted = sqlx::query_scalar::<_, i64>(
            "INSERT INTO offices (process_id, kind, name, state, municipality, district, threshold_kind, threshold_value, \
             territory_roll, required_supports, dispersion_min_sections_bp, dispersion_min_support_bp) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 0, 0, $9, $10) RETURNING id",
        )
        .bind(process_id)
        .bind(new.kind.as_str())
        .bind(new.name.trim())
        .bind(i64::from(new.state))
        .bind(new.municipality.map(i64::from))
        .bind(new.district.map(i64::from))
        .bind(match new.threshold {
            ThresholdRule::Percent(_) => "percent",
            ThresholdRule::Fixed(_) => "fixed",
        })
        .bind(match new.threshold {
            ThresholdRule::Percent(bp) => i64::from(bp),
            ThresholdRule::Fixed(count) => i64::try_from(count).unwrap_or(i64::MAX),
        })
        .bind(i64::from(new.dispersion.min_sections_bp))
        .bind(i64::from(new.dispersion.min_support_bp))
        .fetch_one(&mut *tx)
        .await;
        let id = match inserted {
            Ok(id) => id,
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
                return Err(StoreError::Conflict(Conflict::OfficeNameTaken(
                    new.name.trim().to_owned(),
                )));
            }
            Err(e) => return Err(StoreError::Database(e)),
        };
        for section in &sections {
            sqlx::query(
                "INSERT INTO office_sections (office_id, state, section) VALUES ($1, $2, $3)",
            )
            .bind(id)
            .bind(i64::from(new.state))
            .bind(section)
            .execute(&mut *tx)
            .await
            .map_err(StoreError::Database)?;
        }
        // Each sección's roll at the cut: the basis of the dispersion rule, fixed like
        // the required supports even if the process later verifies against a newer roll.
        sqlx::query(
            "UPDATE office_sections SET lista_nominal = COALESCE((SELECT c.lista_nominal \
             FROM roll_section_counts c WHERE c.snapshot_id = $1 AND c.state = office_sections.state \
             AND c.section = office_sections.section), 0) WHERE office_id = $2",
        )
        .bind(snapshot_id)
        .bind(id)
        .execute(&mut *tx)
        .await
        .map_err(StoreError::Database)?;
        let territory_roll: i64 = sqlx::query_scalar(
            "SELECT CAST(COALESCE(SUM(c.lista_nominal), 0) AS BIGINT) FROM office_sections o \
             JOIN roll_section_counts c ON c.snapshot_id = $1 AND c.state = o.state AND c.section = o.section \
             WHERE o.office_id = $2",
        )
        .bind(snapshot_id)
        .bind(id)
        .fetch_one(&mut *tx)
        .await
        .map_err(StoreError::Database)?;
        let required = new
            .threshold
            .required(u64::try_from(territory_roll).unwrap_or(0));
        let required = i64::try_from(required).unwrap_or(i64::MAX);
        sqlx::query("UPDATE offices SET territory_roll = $1, required_supports = $2 WHERE id = $3")
            .bind(territory_roll)
            .bind(required)
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(StoreError::Database)?;
        audit::append(
            &mut tx,
            actor,
            "office.create",
            "office",
            id,
            None,
            Some(json!({
                "process_id": process_id, "kind": new.kind.as_str(), "name": new.name.trim(),
                "state": new.state, "municipality": new.municipality, "district": new.district,
                "threshold": new.threshold, "dispersion": new.dispersion,
                "territory_sections": sections.len(), "territory_roll": territory_roll, "required_supports": required,
            })),
        )
        .await?;
        tx.commit().await.map_err(StoreError::Database)?;
        self.office(id).await?.ok_or(StoreError::NotFound("office"))
    }

    pub async fn offices(&self, process_id: i64) -> Result<Vec<Office>, StoreError> {
        let ids: Vec<i64> =
            sqlx::query_scalar("SELECT id FROM offices WHERE process_id = $1 ORDER BY id")
                .bind(process_id)
                .fetch_all(&self.pool)
                .await
                .map_err(StoreError::Database)?;
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            if let Some(office) = self.office(id).await? {
                out.push(office);
            }
        }
        Ok(out)
    }

    pub async fn office(&self, id: i64) -> Result<Option<Office>, StoreError> {
        let Some(row) = sqlx::query(
            "SELECT o.*, (SELECT COUNT(*) FROM office_sections s WHERE s.office_id = o.id) AS territory_sections \
             FROM offices o WHERE o.id = $1",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await
        .map_err(StoreError::Database)?
        else {
            return Ok(None);
        };
        let int = |column: &str| -> Result<i64, StoreError> {
            row.try_get(column).map_err(StoreError::Database)
        };
        let opt = |column: &str| -> Result<Option<i64>, StoreError> {
            row.try_get(column).map_err(StoreError::Database)
        };
        let kind: String = row.try_get("kind").map_err(StoreError::Database)?;
        let threshold_kind: String = row
            .try_get("threshold_kind")
            .map_err(StoreError::Database)?;
        let threshold_value = int("threshold_value")?;
        Ok(Some(Office {
            id,
            process_id: int("process_id")?,
            kind: OfficeKind::parse(&kind)
                .ok_or_else(|| StoreError::Corrupt(format!("office kind {kind:?}")))?,
            name: row.try_get("name").map_err(StoreError::Database)?,
            state: u8::try_from(int("state")?).unwrap_or(0),
            municipality: opt("municipality")?.and_then(|m| u16::try_from(m).ok()),
            district: opt("district")?.and_then(|d| u16::try_from(d).ok()),
            threshold: if threshold_kind == "percent" {
                ThresholdRule::Percent(u32::try_from(threshold_value).unwrap_or(0))
            } else {
                ThresholdRule::Fixed(u64::try_from(threshold_value).unwrap_or(0))
            },
            dispersion: DispersionRule {
                min_sections_bp: u32::try_from(int("dispersion_min_sections_bp")?).unwrap_or(0),
                min_support_bp: u32::try_from(int("dispersion_min_support_bp")?).unwrap_or(0),
            },
            territory_roll: int("territory_roll")?,
            territory_sections: int("territory_sections")?,
            required_supports: int("required_supports")?,
        }))
    }
}

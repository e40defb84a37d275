//! An aspirant's progress toward their office's threshold and dispersion rule, read
//! from counters that triggers keep exact in the same transaction as every reception
//! and every verification (migration 0005): reading it never counts supports, so it
//! costs the same with ten supports or ten million (plus one row per sección of the
//! office for dispersion).

use apoyo_domain::threshold::DispersionRule;
use sqlx::Row;

use crate::verification::db;
use crate::{Store, StoreError};

/// Supports of an aspirant with one outcome.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutcomeCount {
    /// An outcome code (`RollOutcome::code`).
    pub outcome: String,
    pub supports: i64,
}

/// One sección of the office's territory, for the dispersion rule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SectionProgress {
    pub state: i64,
    pub section: i64,
    /// The sección's Lista Nominal at the process's cut.
    pub lista_nominal: i64,
    /// Valid supports it needs to count.
    pub needs: i64,
    pub valid: i64,
}

impl SectionProgress {
    pub fn reached(&self) -> bool {
        self.valid >= self.needs
    }
}

/// The dispersion rule's state for an aspirant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DispersionProgress {
    pub rule: DispersionRule,
    pub sections_total: i64,
    pub sections_needed: i64,
    pub sections_reached: i64,
    pub sections: Vec<SectionProgress>,
}

impl DispersionProgress {
    pub fn reached(&self) -> bool {
        self.sections_reached >= self.sections_needed
    }
}

/// An aspirant's figures.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Progress {
    pub aspirant_id: i64,
    pub office_id: i64,
    pub received: i64,
    /// Waiting for verification.
    pub pending: i64,
    pub valid: i64,
    /// Every other outcome with at least one support, by code.
    pub rejected: Vec<OutcomeCount>,
    pub required: i64,
    /// `None` when the office has no dispersion rule.
    pub dispersion: Option<DispersionProgress>,
}

impl Progress {
    pub fn threshold_reached(&self) -> bool {
        self.valid >= self.required
    }

    /// Threshold and dispersion (when there is one) both reached.
    pub fn requirements_met(&self) -> bool {
        self.threshold_reached()
            && self
                .dispersion
                .as_ref()
                .is_none_or(DispersionProgress::reached)
    }
}

impl Store {
    /// The progress of an aspirant; `None` when there is no such aspirant.
    pub async fn aspirant_progress(
        &self,
        aspirant_id: i64,
    ) -> Result<Option<Progress>, StoreError> {
        let Some(office) = sqlx::query(
            "SELECT o.id, o.required_supports, o.dispersion_min_sections_bp, o.dispersion_min_support_bp \
             FROM aspirants a JOIN offices o ON o.id = a.office_id WHERE a.id = $1",
        )
        .bind(aspirant_id)
        .fetch_optional(&self.pool)
        .await
        .map_err(db)?
        else {
            return Ok(None);
        };
        let office_id: i64 = office.try_get("id").map_err(db)?;
        let required: i64 = office.try_get("required_supports").map_err(db)?;
        let rule = DispersionRule {
            min_sections_bp: u32::try_from(
                office
                    .try_get::<i64, _>("dispersion_min_sections_bp")
                    .map_err(db)?,
            )
            .unwrap_or(0),
            min_support_bp: u32::try_from(
                office
                    .try_get::<i64, _>("dispersion_min_support_bp")
                    .map_err(db)?,
            )
            .unwrap_or(0),
        };

        let counts: Vec<(String, i64)> = sqlx::query_as(
            "SELECT outcome, supports FROM aspirant_progress WHERE aspirant_id = $1 AND supports > 0 \
             ORDER BY supports DESC, outcome",
        )
        .bind(aspirant_id)
        .fetch_all(&self.pool)
        .await
        .map_err(db)?;
        let mut progress = Progress {
            aspirant_id,
            office_id,
            received: 0,
            pending: 0,
            valid: 0,
            rejected: Vec::new(),
            required,
            dispersion: None,
        };
        for (outcome, supports) in counts {
            progress.received += supports;
            match outcome.as_str() {
                "pending" => progress.pending += supports,
                "valid" => progress.valid += supports,
                _ => progress.rejected.push(OutcomeCount { outcome, supports }),
            }
        }

        if rule.is_enabled() {
            let rows: Vec<(i64, i64, i64, i64)> = sqlx::query_as(
                "SELECT os.state, os.section, os.lista_nominal, COALESCE(p.valid, 0) \
                 FROM office_sections os LEFT JOIN aspirant_section_progress p \
                 ON p.aspirant_id = $1 AND p.state = os.state AND p.section = os.section \
                 WHERE os.office_id = $2 ORDER BY os.state, os.section",
            )
            .bind(aspirant_id)
            .bind(office_id)
            .fetch_all(&self.pool)
            .await
            .map_err(db)?;
            let sections: Vec<SectionProgress> = rows
                .into_iter()
                .map(|(state, section, lista_nominal, valid)| SectionProgress {
                    state,
                    section,
                    lista_nominal,
                    needs: i64::try_from(
                        rule.section_needs(u64::try_from(lista_nominal).unwrap_or(0)),
                    )
                    .unwrap_or(i64::MAX),
                    valid,
                })
                .collect();
            let total = i64::try_from(sections.len()).unwrap_or(i64::MAX);
            progress.dispersion = Some(DispersionProgress {
                rule,
                sections_total: total,
                sections_needed: i64::try_from(
                    rule.sections_needed(u64::try_from(total).unwrap_or(0)),
                )
                .unwrap_or(i64::MAX),
                sections_reached: sections.iter().filter(|s| s.reached()).count() as i64,
                sections,
            });
        }
        Ok(Some(progress))
    }
}

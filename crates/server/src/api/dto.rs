//! What the API shows: views decoupled from the store's types, with their schemas.

use serde::Serialize;
use utoipa::ToSchema;

use apoyo_domain::threshold::ThresholdRule;
use apoyo_store::{Aspirant, AuditEntry, Collector, Office, Process, SnapshotSummary, User};

#[derive(Debug, Serialize, ToSchema)]
pub struct UserView {
    pub id: i64,
    pub email: String,
    pub name: String,
    /// `admin`, `reviewer`, `aspirant` or `collector`.
    pub role: String,
    pub must_change_password: bool,
    pub active: bool,
    pub aspirant_id: Option<i64>,
}

impl From<&User> for UserView {
    fn from(u: &User) -> Self {
        Self {
            id: u.id,
            email: u.email.clone(),
            name: u.name.clone(),
            role: u.role.as_str().into(),
            must_change_password: u.must_change_password,
            active: u.active,
            aspirant_id: u.aspirant_id,
        }
    }
}

/// An account just created, with the password to hand over once.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedAccount {
    pub email: String,
    /// Shown once; the user must change it at first login.
    pub initial_password: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ProcessView {
    pub id: i64,
    pub name: String,
    pub kind: String,
    /// YYYY-MM-DD.
    pub collection_starts_on: String,
    pub collection_ends_on: String,
    pub grace_hours: u32,
    pub roll_snapshot: String,
    pub cut_date: String,
    /// [entidad, municipio] pairs where paper is allowed (régimen de excepción).
    pub paper_municipalities: Vec<[u16; 2]>,
    pub created_at: String,
}

impl From<&Process> for ProcessView {
    fn from(p: &Process) -> Self {
        Self {
            id: p.id,
            name: p.name.clone(),
            kind: p.kind.as_str().into(),
            collection_starts_on: p.collection_starts_on.to_string(),
            collection_ends_on: p.collection_ends_on.to_string(),
            grace_hours: p.grace_hours,
            roll_snapshot: p.roll_snapshot_name.clone(),
            cut_date: p.cut_date.to_string(),
            paper_municipalities: p
                .paper_municipalities
                .iter()
                .map(|(s, m)| [u16::from(*s), *m])
                .collect(),
            created_at: p.created_at.clone(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OfficeView {
    pub id: i64,
    pub process_id: i64,
    /// `ayuntamiento`, `local_district` or `state`.
    pub kind: String,
    pub name: String,
    pub state: u8,
    pub municipality: Option<u16>,
    pub district: Option<u16>,
    /// `percent` (value in basis points: 300 = 3 %) or `fixed` (a count).
    pub threshold_kind: String,
    pub threshold_value: u64,
    pub dispersion_min_sections_bp: u32,
    pub dispersion_min_support_bp: u32,
    pub territory_sections: i64,
    pub territory_roll: i64,
    pub required_supports: i64,
}

impl From<&Office> for OfficeView {
    fn from(o: &Office) -> Self {
        let (threshold_kind, threshold_value) = match o.threshold {
            ThresholdRule::Percent(bp) => ("percent", u64::from(bp)),
            ThresholdRule::Fixed(n) => ("fixed", n),
        };
        Self {
            id: o.id,
            process_id: o.process_id,
            kind: o.kind.as_str().into(),
            name: o.name.clone(),
            state: o.state,
            municipality: o.municipality,
            district: o.district,
            threshold_kind: threshold_kind.into(),
            threshold_value,
            dispersion_min_sections_bp: o.dispersion.min_sections_bp,
            dispersion_min_support_bp: o.dispersion.min_support_bp,
            territory_sections: o.territory_sections,
            territory_roll: o.territory_roll,
            required_supports: o.required_supports,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AspirantView {
    pub id: i64,
    pub process_id: i64,
    pub office_id: i64,
    pub name: String,
    pub email: String,
    pub active_collectors: i64,
    pub created_at: String,
}

impl From<&Aspirant> for AspirantView {
    fn from(a: &Aspirant) -> Self {
        Self {
            id: a.id,
            process_id: a.process_id,
            office_id: a.office_id,
            name: a.name.clone(),
            email: a.email.clone(),
            active_collectors: a.active_collectors,
            created_at: a.created_at.clone(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CollectorView {
    pub id: i64,
    pub aspirant_id: i64,
    pub name: String,
    pub email: String,
    pub clave_elector: String,
    pub active: bool,
    pub created_at: String,
}

impl From<&Collector> for CollectorView {
    fn from(c: &Collector) -> Self {
        Self {
            id: c.id,
            aspirant_id: c.aspirant_id,
            name: c.name.clone(),
            email: c.email.clone(),
            clave_elector: c.clave_elector.clone(),
            active: c.active,
            created_at: c.created_at.clone(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AspirantCreated {
    pub aspirant: AspirantView,
    pub account: CreatedAccount,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CollectorCreated {
    pub collector: CollectorView,
    pub account: CreatedAccount,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UserCreated {
    pub user: UserView,
    pub account: CreatedAccount,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuditView {
    pub id: i64,
    pub at: String,
    pub actor_user_id: Option<i64>,
    pub action: String,
    pub entity: String,
    pub entity_id: Option<String>,
    #[schema(value_type = Object)]
    pub before: Option<serde_json::Value>,
    #[schema(value_type = Object)]
    pub after: Option<serde_json::Value>,
    pub request_id: Option<String>,
}

impl From<AuditEntry> for AuditView {
    fn from(e: AuditEntry) -> Self {
        Self {
            id: e.id,
            at: e.at,
            actor_user_id: e.actor_user_id,
            action: e.action,
            entity: e.entity,
            entity_id: e.entity_id,
            before: e.before,
            after: e.after,
            request_id: e.request_id,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SnapshotView {
    pub name: String,
    pub cut_date: String,
    pub rows: i64,
    pub sha256: String,
    pub imported_at: String,
    pub active: bool,
}

impl From<&SnapshotSummary> for SnapshotView {
    fn from(s: &SnapshotSummary) -> Self {
        Self {
            name: s.name.clone(),
            cut_date: s.cut_date.clone(),
            rows: s.row_count,
            sha256: s.source_sha256.clone(),
            imported_at: s.imported_at.clone(),
            active: s.active,
        }
    }
}

//! Roles and the ownership rule every request is authorised by.

use serde::{Deserialize, Serialize};

/// What a user account may do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// OPL administrator (administrador del OPL).
    Admin,
    /// Mesa de Control reviewer (revisor).
    Reviewer,
    /// Aspirante: sees and manages only their own data.
    Aspirant,
    /// Auxiliar: captures supports for one aspirant.
    Collector,
}

impl Role {
    pub const ALL: [Role; 4] = [Self::Admin, Self::Reviewer, Self::Aspirant, Self::Collector];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Admin => "admin",
            Self::Reviewer => "reviewer",
            Self::Aspirant => "aspirant",
            Self::Collector => "collector",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == text)
    }

    pub fn label_es(self) -> &'static str {
        match self {
            Self::Admin => "Administración del OPL",
            Self::Reviewer => "Mesa de Control",
            Self::Aspirant => "Aspirante",
            Self::Collector => "Auxiliar",
        }
    }

    /// OPL staff see every aspirant's data; aspirants and collectors only their own.
    pub fn is_staff(self) -> bool {
        matches!(self, Self::Admin | Self::Reviewer)
    }
}

/// Who is asking, reduced to what ownership checks need.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Principal {
    pub user_id: i64,
    pub role: Role,
    /// The aspirant this user is or works for (aspirants and collectors).
    pub aspirant_id: Option<i64>,
}

impl Principal {
    /// Whether this principal may read data that belongs to `aspirant_id`.
    pub fn can_read_aspirant(&self, aspirant_id: i64) -> bool {
        self.role.is_staff() || self.aspirant_id == Some(aspirant_id)
    }

    /// Whether this principal may read one collector's work (their record, a support they
    /// sent): OPL staff, the aspirant they collect for, or that collector.
    pub fn can_read_collector_work(&self, aspirant_id: i64, is_that_collector: bool) -> bool {
        match self.role {
            Role::Admin | Role::Reviewer => true,
            Role::Aspirant => self.aspirant_id == Some(aspirant_id),
            Role::Collector => is_that_collector,
        }
    }

    /// Whether this principal may follow the progress of `aspirant_id` toward the
    /// threshold: OPL staff and the aspirant (collectors see their own supports only).
    pub fn can_read_progress(&self, aspirant_id: i64) -> bool {
        match self.role {
            Role::Admin | Role::Reviewer => true,
            Role::Aspirant => self.aspirant_id == Some(aspirant_id),
            Role::Collector => false,
        }
    }

    /// Whether this principal may see a support's images and the citizen's captured
    /// data unmasked: OPL staff only (the Mesa de Control reviews them; the aspirant's
    /// access during the hearing is a separate, time-boxed rule).
    pub fn can_see_support_images(&self) -> bool {
        self.role.is_staff()
    }

    /// Whether this principal may manage (register, deactivate) the collectors of `aspirant_id`.
    pub fn can_manage_collectors_of(&self, aspirant_id: i64) -> bool {
        match self.role {
            Role::Admin => true,
            Role::Aspirant => self.aspirant_id == Some(aspirant_id),
            Role::Reviewer | Role::Collector => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ownership() {
        let aspirant = Principal {
            user_id: 1,
            role: Role::Aspirant,
            aspirant_id: Some(7),
        };
        assert!(aspirant.can_read_aspirant(7));
        assert!(!aspirant.can_read_aspirant(8));
        assert!(aspirant.can_manage_collectors_of(7));
        assert!(!aspirant.can_manage_collectors_of(8));
        let collector = Principal {
            user_id: 2,
            role: Role::Collector,
            aspirant_id: Some(7),
        };
        assert!(collector.can_read_aspirant(7));
        assert!(!collector.can_manage_collectors_of(7));
        assert!(collector.can_read_collector_work(7, true));
        assert!(!collector.can_read_collector_work(7, false));
        assert!(aspirant.can_read_collector_work(7, false));
        assert!(!aspirant.can_read_collector_work(8, false));
        let reviewer = Principal {
            user_id: 3,
            role: Role::Reviewer,
            aspirant_id: None,
        };
        assert!(reviewer.can_read_aspirant(8));
        assert!(!reviewer.can_manage_collectors_of(8));
        assert!(reviewer.can_read_collector_work(8, false));
        assert!(reviewer.can_read_progress(8) && reviewer.can_see_support_images());
        assert!(aspirant.can_read_progress(7) && !aspirant.can_read_progress(8));
        assert!(!aspirant.can_see_support_images());
        assert!(!collector.can_read_progress(7) && !collector.can_see_support_images());
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()), Some(role));
        }
    }
}

//! Update masks (AIP-134): the fields an update changes.
use std::collections::BTreeSet;

use prost_types::FieldMask;

use crate::error::{Error, Result};

/// The validated set of paths of an update mask. A missing or empty mask,
/// or a path that is not updatable, is INVALID_ARGUMENT.
pub struct UpdateMask(BTreeSet<String>);

impl UpdateMask {
    pub fn parse(mask: Option<&FieldMask>, updatable: &[&str]) -> Result<Self> {
        let paths = mask.map(|m| m.paths.as_slice()).unwrap_or_default();
        if paths.is_empty() {
            return Err(Error::invalid(
                "update_mask",
                format!("is required; updatable fields: {}", updatable.join(", ")),
            ));
        }
        let mut set = BTreeSet::new();
        for path in paths {
            if !updatable.contains(&path.as_str()) {
                return Err(Error::invalid(
                    "update_mask",
                    format!("{path:?} cannot be updated; updatable fields: {}", updatable.join(", ")),
                ));
            }
            set.insert(path.clone());
        }
        Ok(Self(set))
    }

    pub fn has(&self, path: &str) -> bool {
        self.0.contains(path)
    }
}

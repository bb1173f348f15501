use super::{Changes, InstalledPackage, SystemError, TreeView};
use crate::manifest::System;
pub fn compute(
    _t: &dyn TreeView,
    _p: &[InstalledPackage],
    _s: &System,
    _e: u64,
) -> Result<Changes, SystemError> {
    Ok(Changes::default())
}

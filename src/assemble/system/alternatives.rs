use super::{Changes, InstalledPackage, NotEmulated, SystemError, TreeView};
use crate::manifest::System;
pub fn compute(
    _t: &dyn TreeView,
    _p: &[InstalledPackage],
    _s: &System,
) -> Result<(Changes, Vec<NotEmulated>), SystemError> {
    Ok((Changes::default(), vec![]))
}

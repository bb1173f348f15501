use super::{Changes, InstalledPackage, SystemError, TreeView};
pub fn compute(_t: &dyn TreeView, _p: &[InstalledPackage]) -> Result<Changes, SystemError> {
    Ok(Changes::default())
}

use super::{InstalledPackage, NotEmulated};
pub fn scan(_p: &[InstalledPackage]) -> Vec<NotEmulated> {
    vec![]
}

pub mod record;
pub use record::{MultiArch, PackageRecord};

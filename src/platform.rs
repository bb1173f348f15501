//! OCI platforms (`linux/arm64`, `linux/arm/v7`) and the Debian architectures they map to.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A target platform as OCI names it, with the Debian architecture that serves it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Platform {
    pub os: String,
    pub architecture: String,
    pub variant: Option<String>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PlatformError {
    #[error("platform `{0}` is not of the form OS/ARCH[/VARIANT] (for example `linux/arm64`)")]
    Syntax(String),
    #[error("platform `{0}`: only `linux` images can be built from Debian packages")]
    Os(String),
    #[error(
        "platform `{0}` has no Debian architecture (known: linux/amd64, linux/arm64, linux/arm/v7, linux/arm/v5, linux/386, linux/ppc64le, linux/s390x, linux/riscv64, linux/mips64le)"
    )]
    Unknown(String),
    #[error("Debian architecture `{0}` has no OCI platform")]
    UnknownDebianArch(String),
}

/// (OCI architecture, OCI variant, Debian architecture). The variant in the first column is the one
/// written into image configs; `linux/arm64` is written without `v8`, as Docker and the registries do.
const TABLE: &[(&str, Option<&str>, &str)] = &[
    ("amd64", None, "amd64"),
    ("arm64", None, "arm64"),
    ("arm", Some("v7"), "armhf"),
    ("arm", Some("v5"), "armel"),
    ("386", None, "i386"),
    ("ppc64le", None, "ppc64el"),
    ("s390x", None, "s390x"),
    ("riscv64", None, "riscv64"),
    ("mips64le", None, "mips64el"),
];

impl Platform {
    /// The Debian architecture name (`amd64`, `arm64`, `armhf`, …).
    pub fn debian_arch(&self) -> &'static str {
        TABLE
            .iter()
            .find(|(arch, variant, _)| *arch == self.architecture && *variant == self.variant.as_deref())
            .map(|(_, _, deb)| *deb)
            .unwrap_or("unknown")
    }

    /// The platform that runs a Debian architecture.
    pub fn from_debian_arch(deb: &str) -> Result<Self, PlatformError> {
        TABLE
            .iter()
            .find(|(_, _, d)| *d == deb)
            .map(|(arch, variant, _)| Platform {
                os: "linux".into(),
                architecture: (*arch).into(),
                variant: variant.map(str::to_owned),
            })
            .ok_or_else(|| PlatformError::UnknownDebianArch(deb.to_owned()))
    }
}

impl FromStr for Platform {
    type Err = PlatformError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let parts: Vec<&str> = s.split('/').collect();
        let (os, arch, variant) = match parts.as_slice() {
            [os, arch] => (*os, *arch, None),
            [os, arch, variant] => (*os, *arch, Some(*variant)),
            _ => return Err(PlatformError::Syntax(s.to_owned())),
        };
        if os.is_empty() || arch.is_empty() || variant.is_some_and(str::is_empty) {
            return Err(PlatformError::Syntax(s.to_owned()));
        }
        if os != "linux" {
            return Err(PlatformError::Os(s.to_owned()));
        }
        // `arm64/v8` is the same platform as `arm64`; `arm` alone means v7, as in the OCI image index spec.
        let variant = match (arch, variant) {
            ("arm64", Some("v8")) => None,
            ("arm", None) => Some("v7"),
            (_, v) => v,
        };
        let platform = Platform {
            os: os.to_owned(),
            architecture: arch.to_owned(),
            variant: variant.map(str::to_owned),
        };
        if platform.debian_arch() == "unknown" {
            return Err(PlatformError::Unknown(s.to_owned()));
        }
        Ok(platform)
    }
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.os, self.architecture)?;
        if let Some(variant) = &self.variant {
            write!(f, "/{variant}")?;
        }
        Ok(())
    }
}

impl Serialize for Platform {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Platform {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_oci_platforms_to_debian_architectures() {
        let cases = [
            ("linux/amd64", "amd64", "linux/amd64"),
            ("linux/arm64", "arm64", "linux/arm64"),
            ("linux/arm64/v8", "arm64", "linux/arm64"),
            ("linux/arm", "armhf", "linux/arm/v7"),
            ("linux/arm/v7", "armhf", "linux/arm/v7"),
            ("linux/arm/v5", "armel", "linux/arm/v5"),
            ("linux/ppc64le", "ppc64el", "linux/ppc64le"),
            ("linux/386", "i386", "linux/386"),
        ];
        for (input, deb, display) in cases {
            let p: Platform = input.parse().unwrap();
            assert_eq!(p.debian_arch(), deb, "{input}");
            assert_eq!(p.to_string(), display, "{input}");
            assert_eq!(Platform::from_debian_arch(deb).unwrap(), p, "{deb}");
        }
    }

    #[test]
    fn rejects_bad_platforms() {
        assert!(matches!(
            "linux".parse::<Platform>(),
            Err(PlatformError::Syntax(_))
        ));
        assert!(matches!(
            "linux//".parse::<Platform>(),
            Err(PlatformError::Syntax(_))
        ));
        assert!(matches!(
            "windows/amd64".parse::<Platform>(),
            Err(PlatformError::Os(_))
        ));
        assert!(matches!(
            "linux/sparc".parse::<Platform>(),
            Err(PlatformError::Unknown(_))
        ));
        assert!(matches!(
            "linux/arm/v6".parse::<Platform>(),
            Err(PlatformError::Unknown(_))
        ));
    }
}

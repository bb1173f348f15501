//! Parsing Depends-style relationship fields:
//! `a (>= 1.0) | b:any, c [amd64] <!nocheck>`.

use std::cmp::Ordering;
use std::fmt;

use super::version;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RelOp {
    /// `<<`
    Lt,
    /// `<=` (and the obsolete `<`)
    Le,
    /// `=`
    Eq,
    /// `>=` (and the obsolete `>`)
    Ge,
    /// `>>`
    Gt,
}

impl RelOp {
    pub fn holds(self, ord: Ordering) -> bool {
        match self {
            RelOp::Lt => ord == Ordering::Less,
            RelOp::Le => ord != Ordering::Greater,
            RelOp::Eq => ord == Ordering::Equal,
            RelOp::Ge => ord != Ordering::Less,
            RelOp::Gt => ord == Ordering::Greater,
        }
    }
}

impl fmt::Display for RelOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            RelOp::Lt => "<<",
            RelOp::Le => "<=",
            RelOp::Eq => "=",
            RelOp::Ge => ">=",
            RelOp::Gt => ">>",
        })
    }
}

/// A version constraint `(OP VERSION)`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Constraint {
    pub op: RelOp,
    pub version: String,
}

impl Constraint {
    /// Whether `version` satisfies the constraint (dpkg order).
    pub fn matches(&self, version: &str) -> bool {
        self.op.holds(version::compare(version, &self.version))
    }
}

impl fmt::Display for Constraint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.op, self.version)
    }
}

/// The architecture qualifier after a package name (`foo:any`, `foo:native`, `foo:amd64`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ArchQualifier {
    None,
    Any,
    Native,
    Arch(String),
}

/// One term of a relationship field.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Relation {
    pub name: String,
    pub arch: ArchQualifier,
    pub constraint: Option<Constraint>,
    /// `[amd64 !i386]`: (negated, arch) pairs; empty when absent.
    pub arch_restrictions: Vec<(bool, String)>,
    /// `<!nocheck> <stage1 cross>`: a disjunction of conjunctions of (negated, profile).
    pub profiles: Vec<Vec<(bool, String)>>,
}

impl Relation {
    /// Whether the term applies when building for `arch` with no build profile active (the
    /// situation of binary packages). Architecture wildcards (`linux-any`) are matched loosely:
    /// `any` and `*-any` match every architecture.
    pub fn applies_to(&self, arch: &str) -> bool {
        if !self.arch_restrictions.is_empty() {
            let matches = |a: &str| a == arch || a == "any" || a.ends_with("-any");
            let positive = self.arch_restrictions.iter().any(|(neg, _)| !neg);
            let ok = if positive {
                self.arch_restrictions.iter().any(|(neg, a)| !neg && matches(a))
            } else {
                !self.arch_restrictions.iter().any(|(_, a)| matches(a))
            };
            if !ok {
                return false;
            }
        }
        if !self.profiles.is_empty() {
            // No profile is active: a term `<p>` is false and `<!p>` is true.
            return self.profiles.iter().any(|conj| conj.iter().all(|(neg, _)| *neg));
        }
        true
    }
}

impl fmt::Display for Relation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)?;
        match &self.arch {
            ArchQualifier::None => {}
            ArchQualifier::Any => f.write_str(":any")?,
            ArchQualifier::Native => f.write_str(":native")?,
            ArchQualifier::Arch(a) => write!(f, ":{a}")?,
        }
        if let Some(c) = &self.constraint {
            write!(f, " ({c})")?;
        }
        Ok(())
    }
}

/// Alternatives `a | b | c`.
pub type OrGroup = Vec<Relation>;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot parse relationship `{term}`: {message}")]
pub struct RelationError {
    pub term: String,
    pub message: String,
}

fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(&b))
}

fn parse_term(term: &str) -> Result<Relation, RelationError> {
    let err = |message: &str| RelationError {
        term: term.to_owned(),
        message: message.to_owned(),
    };
    let mut rest = term.trim();
    // Name (with optional :arch) runs up to whitespace or one of `([<`.
    let end = rest
        .find(|c: char| c.is_whitespace() || "([<".contains(c))
        .unwrap_or(rest.len());
    let full = &rest[..end];
    rest = rest[end..].trim_start();
    let (name, arch) = match full.split_once(':') {
        None => (full, ArchQualifier::None),
        Some((n, "any")) => (n, ArchQualifier::Any),
        Some((n, "native")) => (n, ArchQualifier::Native),
        Some((n, a)) if !a.is_empty() => (n, ArchQualifier::Arch(a.to_owned())),
        Some(_) => return Err(err("empty architecture qualifier")),
    };
    if !valid_name(name) {
        return Err(err("invalid package name"));
    }
    let mut constraint = None;
    if let Some(r) = rest.strip_prefix('(') {
        let close = r.find(')').ok_or_else(|| err("missing `)`"))?;
        let inner = r[..close].trim();
        rest = r[close + 1..].trim_start();
        let (op, ver) = if let Some(v) = inner.strip_prefix("<<") {
            (RelOp::Lt, v)
        } else if let Some(v) = inner.strip_prefix("<=") {
            (RelOp::Le, v)
        } else if let Some(v) = inner.strip_prefix(">>") {
            (RelOp::Gt, v)
        } else if let Some(v) = inner.strip_prefix(">=") {
            (RelOp::Ge, v)
        } else if let Some(v) = inner.strip_prefix('=') {
            (RelOp::Eq, v)
        } else if let Some(v) = inner.strip_prefix('<') {
            // Obsolete `<` means `<=` (Debian Policy 7.1).
            (RelOp::Le, v)
        } else if let Some(v) = inner.strip_prefix('>') {
            (RelOp::Ge, v)
        } else {
            return Err(err("unknown version relation"));
        };
        let ver = ver.trim();
        if ver.is_empty() || ver.contains(char::is_whitespace) {
            return Err(err("invalid version in constraint"));
        }
        constraint = Some(Constraint {
            op,
            version: ver.to_owned(),
        });
    }
    let mut arch_restrictions = Vec::new();
    if let Some(r) = rest.strip_prefix('[') {
        let close = r.find(']').ok_or_else(|| err("missing `]`"))?;
        for a in r[..close].split_whitespace() {
            match a.strip_prefix('!') {
                Some(a) => arch_restrictions.push((true, a.to_owned())),
                None => arch_restrictions.push((false, a.to_owned())),
            }
        }
        rest = r[close + 1..].trim_start();
    }
    let mut profiles = Vec::new();
    while let Some(r) = rest.strip_prefix('<') {
        let close = r.find('>').ok_or_else(|| err("missing `>`"))?;
        let conj = r[..close]
            .split_whitespace()
            .map(|p| match p.strip_prefix('!') {
                Some(p) => (true, p.to_owned()),
                None => (false, p.to_owned()),
            })
            .collect();
        profiles.push(conj);
        rest = r[close + 1..].trim_start();
    }
    if !rest.is_empty() {
        return Err(err("unexpected trailing text"));
    }
    Ok(Relation {
        name: name.to_owned(),
        arch,
        constraint,
        arch_restrictions,
        profiles,
    })
}

/// Parses a whole field into its comma-separated or-groups. Empty groups (a trailing comma) are
/// skipped, as dpkg and apt tolerate them.
pub fn parse_relations(field: &str) -> Result<Vec<OrGroup>, RelationError> {
    let mut groups = Vec::new();
    for group in field.split(',') {
        if group.trim().is_empty() {
            continue;
        }
        let alts = group.split('|').map(parse_term).collect::<Result<Vec<_>, _>>()?;
        groups.push(alts);
    }
    Ok(groups)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_full_syntax() {
        let g = parse_relations(
            "a (>= 1.0) | b:any, c [amd64] <!nocheck>, d (<< 2:3~x), e (<1), f:native, g:arm64",
        )
        .unwrap();
        assert_eq!(g.len(), 6);
        assert_eq!(g[0].len(), 2);
        assert_eq!(g[0][0].name, "a");
        assert_eq!(g[0][0].constraint.as_ref().map(|c| c.op), Some(RelOp::Ge));
        assert_eq!(g[0][1].arch, ArchQualifier::Any);
        assert_eq!(g[1][0].arch_restrictions, vec![(false, "amd64".to_owned())]);
        assert_eq!(g[1][0].profiles, vec![vec![(true, "nocheck".to_owned())]]);
        assert!(g[1][0].applies_to("amd64"));
        assert!(!g[1][0].applies_to("arm64"));
        assert_eq!(
            g[2][0].constraint.as_ref().map(|c| c.version.as_str()),
            Some("2:3~x")
        );
        assert_eq!(g[3][0].constraint.as_ref().map(|c| c.op), Some(RelOp::Le));
        assert_eq!(g[4][0].arch, ArchQualifier::Native);
        assert_eq!(g[5][0].arch, ArchQualifier::Arch("arm64".into()));
        assert_eq!(g[0][0].to_string(), "a (>= 1.0)");
    }

    #[test]
    fn tolerates_whitespace_and_trailing_commas() {
        let g = parse_relations(" a(>=1) ,\n b | c ,").unwrap();
        assert_eq!(g.len(), 2);
        assert_eq!(g[0][0].constraint.as_ref().map(|c| c.version.as_str()), Some("1"));
    }

    #[test]
    fn rejects_garbage() {
        assert!(parse_relations("a (>= 1").is_err());
        assert!(parse_relations("a (~ 1)").is_err());
        assert!(parse_relations("a b").is_err());
        assert!(parse_relations("a | , b").is_err());
    }

    #[test]
    fn profile_and_restriction_semantics() {
        let g = parse_relations("a <stage1>, b <!stage1> <stage2>, c [!amd64], d [linux-any]").unwrap();
        assert!(!g[0][0].applies_to("amd64"));
        assert!(g[1][0].applies_to("amd64"));
        assert!(!g[2][0].applies_to("amd64"));
        assert!(g[2][0].applies_to("arm64"));
        assert!(g[3][0].applies_to("amd64"));
    }

    #[test]
    fn constraint_matching() {
        let c = Constraint {
            op: RelOp::Lt,
            version: "2.0".into(),
        };
        assert!(c.matches("2.0~rc1"));
        assert!(!c.matches("2.0"));
        let c = Constraint {
            op: RelOp::Ge,
            version: "1:1.0".into(),
        };
        assert!(!c.matches("9.9"));
        assert!(c.matches("1:1.0"));
    }
}

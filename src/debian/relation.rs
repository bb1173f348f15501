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

/// One term, borrowed from the field's text: what the universe needs of every relationship of
/// every package (names, qualifiers, whether it applies) without allocating. The grammar and
/// its errors are [`parse_term`]'s, which builds on it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct TermRef<'a> {
    pub name: &'a str,
    /// The text after `:` in `name:qual`, when present.
    pub qualifier: Option<&'a str>,
    pub constraint: Option<(RelOp, &'a str)>,
    /// Inside `[…]`, when present.
    restrictions: Option<&'a str>,
    /// The `<…>` groups, as the run from after the first `<` to before the last `>`
    /// (see [`profile_groups`]).
    profiles: Option<&'a str>,
}

impl<'a> TermRef<'a> {
    pub fn is_any(&self) -> bool {
        self.qualifier == Some("any")
    }

    /// [`Relation::applies_to`] on the borrowed form.
    pub fn applies_to(&self, arch: &str) -> bool {
        if let Some(r) = self.restrictions {
            let items = || {
                r.split_whitespace()
                    .map(|a| a.strip_prefix('!').map_or((false, a), |a| (true, a)))
            };
            if items().next().is_some() {
                let matches = |a: &str| a == arch || a == "any" || a.ends_with("-any");
                let positive = items().any(|(neg, _)| !neg);
                let ok = if positive {
                    items().any(|(neg, a)| !neg && matches(a))
                } else {
                    !items().any(|(_, a)| matches(a))
                };
                if !ok {
                    return false;
                }
            }
        }
        let Some(profiles) = self.profiles else {
            return true;
        };
        // No profile is active: a term `<p>` is false and `<!p>` is true.
        profile_groups(profiles).any(|conj| conj.split_whitespace().all(|p| p.starts_with('!')))
    }

    fn to_relation(self) -> Relation {
        let arch = match self.qualifier {
            None => ArchQualifier::None,
            Some("any") => ArchQualifier::Any,
            Some("native") => ArchQualifier::Native,
            Some(a) => ArchQualifier::Arch(a.to_owned()),
        };
        let pairs = |text: &str| -> Vec<(bool, String)> {
            text.split_whitespace()
                .map(|p| match p.strip_prefix('!') {
                    Some(p) => (true, p.to_owned()),
                    None => (false, p.to_owned()),
                })
                .collect()
        };
        Relation {
            name: self.name.to_owned(),
            arch,
            constraint: self.constraint.map(|(op, v)| Constraint {
                op,
                version: v.to_owned(),
            }),
            arch_restrictions: self.restrictions.map(pairs).unwrap_or_default(),
            profiles: self
                .profiles
                .map(|p| profile_groups(p).map(pairs).collect())
                .unwrap_or_default(),
        }
    }
}

/// The groups of a profile run `a b> <c`: `a b`, then `c` (each later group is whitespace and
/// one `<` away from the previous `>`; a group never contains `>`).
fn profile_groups(run: &str) -> impl Iterator<Item = &str> {
    run.split('>').enumerate().map(|(i, g)| {
        if i == 0 {
            g
        } else {
            g.trim_start().strip_prefix('<').unwrap_or(g)
        }
    })
}

pub(crate) fn parse_term_ref(term: &str) -> Result<TermRef<'_>, RelationError> {
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
    let (name, qualifier) = match full.split_once(':') {
        None => (full, None),
        Some((_, "")) => return Err(err("empty architecture qualifier")),
        Some((n, a)) => (n, Some(a)),
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
        constraint = Some((op, ver));
    }
    let mut restrictions = None;
    if let Some(r) = rest.strip_prefix('[') {
        let close = r.find(']').ok_or_else(|| err("missing `]`"))?;
        restrictions = Some(&r[..close]);
        rest = r[close + 1..].trim_start();
    }
    // Profiles: `<a b> <c>` kept as the run `a b> <c` between the first `<` and the last `>`.
    let mut profiles = None;
    if rest.starts_with('<') {
        let start = rest;
        let mut end_at = 0;
        while let Some(r) = rest.strip_prefix('<') {
            let close = r.find('>').ok_or_else(|| err("missing `>`"))?;
            rest = r[close + 1..].trim_start();
            end_at = start.len() - r.len() + close;
        }
        profiles = Some(&start[1..end_at]);
    }
    if !rest.is_empty() {
        return Err(err("unexpected trailing text"));
    }
    Ok(TermRef {
        name,
        qualifier,
        constraint,
        restrictions,
        profiles,
    })
}

fn parse_term(term: &str) -> Result<Relation, RelationError> {
    parse_term_ref(term).map(TermRef::to_relation)
}

/// Checks a whole field as [`parse_relations`] does, then calls `visit` for each of its terms
/// in order, without allocating (the terms are parsed twice: checking first keeps "nothing of
/// an invalid field is seen", as with [`parse_relations`]).
pub(crate) fn scan_relations<'a>(
    field: &'a str,
    mut visit: impl FnMut(TermRef<'a>),
) -> Result<(), RelationError> {
    let terms = || {
        field
            .split(',')
            .filter(|g| !g.trim().is_empty())
            .flat_map(|g| g.split('|'))
    };
    for term in terms() {
        parse_term_ref(term)?;
    }
    for term in terms() {
        visit(parse_term_ref(term)?);
    }
    Ok(())
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
    fn borrowed_terms_agree_with_owned_relations() {
        let fields = [
            "a (>= 1.0) | b:any, c [amd64] <!nocheck>, d (<< 2:3~x), e (<1), f:native, g:arm64",
            "a <stage1>, b <!stage1> <stage2>, c [!amd64], d [linux-any], e <>, f [ ]",
            "a <!x !y> <z>, b <p<q>, c [amd64 !arm64] <!a> <!b c>",
        ];
        for field in fields {
            let owned: Vec<Relation> = parse_relations(field).unwrap().into_iter().flatten().collect();
            let mut borrowed = Vec::new();
            scan_relations(field, |t| borrowed.push(t)).unwrap();
            assert_eq!(owned.len(), borrowed.len(), "{field}");
            for (o, b) in owned.iter().zip(&borrowed) {
                assert_eq!(o, &b.to_relation(), "{field}");
                for arch in ["amd64", "arm64", "i386"] {
                    assert_eq!(o.applies_to(arch), b.applies_to(arch), "{o:?} on {arch}");
                }
            }
        }
        let mut seen = 0;
        assert!(scan_relations("a, b (>= 1", |_| seen += 1).is_err());
        assert_eq!(seen, 0, "nothing of an invalid field is visited");
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

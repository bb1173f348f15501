//! The dependency graph of one platform's locked packages, as resolved: each `Pre-Depends` and
//! `Depends` (and `Recommends`, where the manifest follows them) alternative group points at the
//! locked packages that satisfy it (by name and version, or by `Provides`), and only those. This
//! is `apt-cache depends`/`rdepends` restricted to the lock.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use crate::debian::relation::{Relation, parse_relations};

/// What the graph needs of one package.
#[derive(Debug, Clone)]
pub struct Node<'a> {
    pub name: &'a str,
    pub version: &'a str,
    pub architecture: &'a str,
    /// `(field name, field value)` of the relationship fields to follow.
    pub depends: Vec<(&'a str, &'a str)>,
    pub provides: Option<&'a str>,
}

/// An edge: `from` needs `to` through `field` (`Depends`, `Pre-Depends`, `Recommends`) with the
/// relation as written.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Edge {
    pub to: usize,
    pub field: String,
    pub relation: String,
}

#[derive(Debug, Clone, Default)]
pub struct Graph {
    pub names: Vec<String>,
    /// Per node, its edges, sorted and without duplicates.
    pub edges: Vec<Vec<Edge>>,
}

impl Graph {
    /// Builds the graph; a relationship field that does not parse is skipped (the lock was
    /// resolved from the same fields, so this does not happen with a lock debcast made).
    pub fn new(nodes: &[Node<'_>]) -> Self {
        // name -> (node, version provided or the package's own, None for unversioned Provides)
        let mut by_name: BTreeMap<String, Vec<(usize, Option<String>)>> = BTreeMap::new();
        for (i, n) in nodes.iter().enumerate() {
            by_name
                .entry(n.name.to_owned())
                .or_default()
                .push((i, Some(n.version.to_owned())));
            if let Some(p) = n.provides
                && let Ok(groups) = parse_relations(p)
            {
                for r in groups.into_iter().flatten() {
                    let v = r.constraint.map(|c| c.version);
                    by_name.entry(r.name).or_default().push((i, v));
                }
            }
        }
        let satisfies = |r: &Relation| -> Vec<usize> {
            let Some(cands) = by_name.get(r.name.as_str()) else {
                return Vec::new();
            };
            cands
                .iter()
                .filter(|(_, v)| match (&r.constraint, v) {
                    (None, _) => true,
                    (Some(c), Some(v)) => c.matches(v),
                    (Some(_), None) => false,
                })
                .map(|(i, _)| *i)
                .collect()
        };
        let mut edges = Vec::with_capacity(nodes.len());
        for n in nodes {
            let mut out = BTreeSet::new();
            for (field, value) in &n.depends {
                let Ok(groups) = parse_relations(value) else {
                    continue;
                };
                for group in groups {
                    // The first alternative the lock satisfies is the one apt took.
                    for r in group.iter().filter(|r| r.applies_to(n.architecture)) {
                        let hits = satisfies(r);
                        if !hits.is_empty() {
                            for to in hits {
                                out.insert(Edge {
                                    to,
                                    field: (*field).to_owned(),
                                    relation: r.to_string(),
                                });
                            }
                            break;
                        }
                    }
                }
            }
            edges.push(out.into_iter().collect());
        }
        Graph {
            names: nodes.iter().map(|n| n.name.to_owned()).collect(),
            edges,
        }
    }

    /// The nodes `i` directly depends on, without repeats.
    pub fn depends_on(&self, i: usize) -> BTreeSet<usize> {
        self.edges
            .get(i)
            .map(|e| e.iter().map(|e| e.to).collect())
            .unwrap_or_default()
    }

    /// The nodes that directly depend on `i`.
    pub fn rdepends(&self, i: usize) -> BTreeSet<usize> {
        (0..self.edges.len())
            .filter(|&j| self.edges[j].iter().any(|e| e.to == i))
            .collect()
    }

    /// The shortest chain from one of `roots` to `target` (both ends included), preferring the
    /// first root and then names in order, so the answer is stable.
    pub fn chain(&self, roots: &[usize], target: usize) -> Option<Vec<usize>> {
        let mut prev: BTreeMap<usize, Option<usize>> = BTreeMap::new();
        let mut queue = VecDeque::new();
        for &r in roots {
            if let std::collections::btree_map::Entry::Vacant(e) = prev.entry(r) {
                e.insert(None);
                queue.push_back(r);
            }
        }
        while let Some(i) = queue.pop_front() {
            if i == target {
                let mut path = vec![i];
                let mut cur = i;
                while let Some(Some(p)) = prev.get(&cur) {
                    path.push(*p);
                    cur = *p;
                }
                path.reverse();
                return Some(path);
            }
            let mut next: Vec<usize> = self.depends_on(i).into_iter().collect();
            next.sort_by(|a, b| self.names[*a].cmp(&self.names[*b]));
            for j in next {
                if let std::collections::btree_map::Entry::Vacant(e) = prev.entry(j) {
                    e.insert(Some(i));
                    queue.push_back(j);
                }
            }
        }
        None
    }

    /// Every node reachable from `roots` (the roots included).
    pub fn reachable(&self, roots: &[usize]) -> BTreeSet<usize> {
        let mut seen: BTreeSet<usize> = roots.iter().copied().collect();
        let mut stack: Vec<usize> = roots.to_vec();
        while let Some(i) = stack.pop() {
            for j in self.depends_on(i) {
                if seen.insert(j) {
                    stack.push(j);
                }
            }
        }
        seen
    }

    /// The edge from `from` to `to`, for explaining a chain.
    pub fn edge(&self, from: usize, to: usize) -> Option<&Edge> {
        self.edges.get(from)?.iter().find(|e| e.to == to)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node<'a>(name: &'a str, depends: &'a str, provides: Option<&'a str>) -> Node<'a> {
        Node {
            name,
            version: "1.0",
            architecture: "amd64",
            depends: vec![("Depends", depends)],
            provides,
        }
    }

    #[test]
    fn alternatives_virtuals_and_chains() {
        let nodes = vec![
            node(
                "app",
                "libfoo (>= 0.5), mail-transport-agent | exim4, missing | libbar",
                None,
            ),
            node("libfoo", "libc6", None),
            node("postfix", "libc6", Some("mail-transport-agent")),
            node("libbar", "libc6 (>= 2.0)", None),
            node("libc6", "", None),
        ];
        let g = Graph::new(&nodes);
        let names = |set: BTreeSet<usize>| set.into_iter().map(|i| g.names[i].clone()).collect::<Vec<_>>();
        assert_eq!(names(g.depends_on(0)), ["libfoo", "postfix", "libbar"]);
        // libc6 (>= 2.0) is not satisfied by 1.0: no edge.
        assert_eq!(names(g.depends_on(3)), Vec::<String>::new());
        assert_eq!(names(g.rdepends(4)), ["libfoo", "postfix"]);
        let chain = g.chain(&[0], 4).unwrap();
        assert_eq!(
            chain.iter().map(|&i| g.names[i].as_str()).collect::<Vec<_>>(),
            ["app", "libfoo", "libc6"]
        );
        assert_eq!(g.edge(0, 2).unwrap().relation, "mail-transport-agent");
        assert_eq!(g.chain(&[1], 0), None);
    }
}

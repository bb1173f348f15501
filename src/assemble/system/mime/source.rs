//! Reading `/usr/share/mime/packages/*.xml` into the database update-mime-database builds: the
//! same tables, filled in the same order, with the same rules for what a later file overrides and
//! what a malformed element skips (shared-mime-info 2.2's `update-mime-database.c`).

use super::super::ghash::StrTable;
use super::magic::{self, Match, TreeMatch};
use super::xmlsave::{Attr, Element, Node, NsDecl};

pub use super::magic::FREE_NS;
const XML_NS: &str = "http://www.w3.org/XML/1998/namespace";

/// The media types update-mime-database knows (others are accepted with a warning) and whose
/// directories it cleans of stale type files.
pub const MEDIA_TYPES: &[&str] = &[
    "text",
    "application",
    "image",
    "audio",
    "inode",
    "video",
    "message",
    "model",
    "multipart",
    "x-content",
    "x-epoc",
    "x-scheme-handler",
    "font",
];

/// Pattern of the glob that `<glob-deleteall/>` records.
pub const NOGLOBS: &str = "__NOGLOBS__";
/// Data of the match that `<magic-deleteall/>` records.
const NOMAGIC: &str = "__NOMAGIC__";

/// One MIME type: its name's two halves and the document written to `MEDIA/SUBTYPE.xml`.
#[derive(Debug, Clone)]
pub struct MimeType {
    pub media: String,
    pub subtype: String,
    /// The root `<mime-type>` element, children in the order they were copied.
    pub output: Element,
}

#[derive(Debug, Clone)]
pub struct Glob {
    pub weight: i32,
    pub pattern: String,
    /// The MIME type's name.
    pub mime: String,
    pub noglob: bool,
    pub case_sensitive: bool,
}

#[derive(Debug, Clone)]
pub struct Magic {
    pub priority: i32,
    pub mime: String,
    pub matches: Vec<Match>,
    pub nomagic: bool,
}

#[derive(Debug, Clone)]
pub struct TreeMagic {
    pub priority: i32,
    pub mime: String,
    pub matches: Vec<TreeMatch>,
}

/// Everything update-mime-database collects before it writes.
#[derive(Debug, Default)]
pub struct Database {
    pub types: StrTable<MimeType>,
    /// `"namespaceURI localName"` → MIME type.
    pub namespaces: StrTable<String>,
    /// Pattern (lower-cased unless case-sensitive) → its globs, in the order they were read.
    pub globs: StrTable<Vec<Glob>>,
    pub magic: Vec<Magic>,
    pub tree_magic: Vec<TreeMagic>,
    /// MIME type → the types it is a subclass of.
    pub subclasses: StrTable<Vec<String>>,
    /// Alias → MIME type.
    pub aliases: StrTable<String>,
    pub icons: StrTable<String>,
    pub generic_icons: StrTable<String>,
    /// What update-mime-database prints as warnings (files it skips, types with errors).
    pub warnings: Vec<String>,
}

/// Why a source file cannot be read the way libxml2 reads it: debcast's parser would build a
/// different tree, so nothing is written rather than something different.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unreproducible(pub String);

impl Database {
    /// Reads one source file (`name` for messages). Files are read in the order
    /// [`source_order`] gives; later definitions override earlier ones.
    pub fn load(&mut self, name: &str, text: &str) -> Result<(), Unreproducible> {
        // libxml2 keeps CDATA sections as their own nodes and writes them back as such; the
        // parser here folds them into text.
        if text.contains("<![CDATA[") {
            return Err(Unreproducible(format!("{name} has a CDATA section")));
        }
        // libxml2 keeps a reference to a declared entity in text as a reference (and writes it
        // back so); this parser replaces it by its value.
        if text.contains("<!ENTITY") {
            return Err(Unreproducible(format!("{name} declares entities")));
        }
        let options = roxmltree::ParsingOptions {
            allow_dtd: true,
            ..roxmltree::ParsingOptions::default()
        };
        let doc = match roxmltree::Document::parse_with_options(text, options) {
            Ok(doc) => doc,
            // libxml2 recovers from some errors (an undeclared prefix) that stop this parser,
            // and skips the file on others: which one is not knowable here.
            Err(e) => {
                return Err(Unreproducible(format!(
                    "{name} is not XML debcast reads as libxml2 does: {e}"
                )));
            }
        };
        let root = doc.root_element();
        if root.tag_name().namespace() != Some(FREE_NS) {
            self.warnings.push(format!(
                "Wrong namespace on document element in '{name}' (should be {FREE_NS})"
            ));
            return Ok(());
        }
        if root.tag_name().name() != "mime-info" {
            self.warnings.push(format!(
                "Root element <{}> is not <mime-info> (in '{name}')",
                root.tag_name().name()
            ));
            return Ok(());
        }
        for node in root.children().filter(|n| n.is_element()) {
            let mut type_name = None;
            let result = if !is_free(node, "mime-type") {
                Err("Excepted <mime-type>, but got wrong name or namespace".to_owned())
            } else {
                match node.attribute("type") {
                    None => Err("<mime-type> element has no 'type' attribute".to_owned()),
                    Some(t) => match self.get_type(t) {
                        Err(e) => Err(e),
                        Ok(()) => {
                            type_name = Some(t.to_owned());
                            self.load_type(t, node)
                        }
                    },
                }
            };
            if let Err(e) = result {
                let (media, subtype) = type_name
                    .as_deref()
                    .and_then(|t| t.split_once('/'))
                    .unwrap_or(("unknown", "unknown"));
                self.warnings
                    .push(format!("Error in type '{media}/{subtype}' (in {name}): {e}."));
            }
        }
        Ok(())
    }

    /// `get_type`: the type named `name`, made (with its output document) when first seen.
    fn get_type(&mut self, name: &str) -> Result<(), String> {
        let Some((media, subtype)) = name.split_once('/').filter(|(_, s)| !s.contains('/')) else {
            return Err(format!("Invalid MIME-type '{name}'"));
        };
        if self.types.contains(name) {
            return Ok(());
        }
        let output = Element {
            prefix: None,
            name: "mime-type".into(),
            ns_decls: vec![NsDecl {
                prefix: None,
                uri: FREE_NS.into(),
            }],
            attrs: vec![Attr {
                prefix: None,
                name: "type".into(),
                value: name.into(),
            }],
            children: vec![Node::Comment(
                "Created automatically by update-mime-database. DO NOT EDIT!".into(),
            )],
            ns_uri: Some(FREE_NS.into()),
        };
        self.types.insert(
            name,
            MimeType {
                media: media.to_owned(),
                subtype: subtype.to_owned(),
                output,
            },
        );
        Ok(())
    }

    /// `load_type`: every child element of a `<mime-type>`, processed or copied to the output.
    /// The first error ends the type (what was recorded before it stays).
    fn load_type(&mut self, name: &str, node: roxmltree::Node<'_, '_>) -> Result<(), String> {
        for field in node.children().filter(|n| n.is_element()) {
            if field.tag_name().namespace() == Some(FREE_NS) && !self.process_freedesktop(name, field)? {
                continue;
            }
            let copy = copy_element(field);
            let Some(ty) = self.types.get_mut(name) else {
                continue;
            };
            remove_old(&mut ty.output, field);
            ty.output.children.push(Node::Element(copy));
        }
        Ok(())
    }

    /// `process_freedesktop_node`: records a field of the freedesktop.org namespace; `Ok(true)`
    /// when it is also copied to the type's output document.
    fn process_freedesktop(&mut self, name: &str, field: roxmltree::Node<'_, '_>) -> Result<bool, String> {
        let mut copy = false;
        let mut error = None;
        match field.tag_name().name() {
            "glob" => {
                let weight = int_attribute(field, "weight");
                let case_sensitive = field.attribute("case-sensitive") == Some("true");
                if weight == -1 {
                    error = Some(format!("Bad weight ({weight}) in <glob> element"));
                }
                match field.attribute("pattern").filter(|p| !p.is_empty()) {
                    Some(pattern) => {
                        let pattern = if case_sensitive {
                            pattern.to_owned()
                        } else {
                            pattern.to_ascii_lowercase()
                        };
                        self.add_glob(Glob {
                            weight,
                            pattern,
                            mime: name.to_owned(),
                            noglob: false,
                            case_sensitive,
                        });
                        copy = true;
                    }
                    None => error = Some("Missing 'pattern' attribute in <glob> element".to_owned()),
                }
            }
            "glob-deleteall" => {
                self.add_glob(Glob {
                    weight: 0,
                    pattern: NOGLOBS.to_owned(),
                    mime: name.to_owned(),
                    noglob: true,
                    case_sensitive: false,
                });
                copy = true;
            }
            "magic" => {
                let priority = int_attribute(field, "priority");
                if priority == -1 {
                    error = Some(format!("Bad priority ({priority}) in <magic> element"));
                } else {
                    match magic::build_matches(field) {
                        Err(e) => error = Some(format!("Error in <match> element: {e}")),
                        Ok(matches) if matches.is_empty() => {
                            error = Some("Incomplete <magic> element".to_owned())
                        }
                        Ok(matches) => self.magic.push(Magic {
                            priority,
                            mime: name.to_owned(),
                            matches,
                            nomagic: false,
                        }),
                    }
                }
            }
            "magic-deleteall" => self.magic.push(Magic {
                priority: 0,
                mime: name.to_owned(),
                matches: vec![Match::data_only(NOMAGIC.as_bytes().to_vec())],
                nomagic: true,
            }),
            "treemagic" => {
                let priority = int_attribute(field, "priority");
                if priority == -1 {
                    error = Some(format!("Bad priority ({priority}) in <treemagic> element"));
                } else {
                    match magic::build_tree_matches(field) {
                        Err(e) => error = Some(format!("Error in <treematch> element: {e}")),
                        Ok(matches) => self.tree_magic.push(TreeMagic {
                            priority,
                            mime: name.to_owned(),
                            matches,
                        }),
                    }
                }
            }
            "comment" | "acronym" | "expanded-acronym" => copy = true,
            kind @ ("alias" | "sub-class-of") => match field.attribute("type").filter(|t| t.contains('/')) {
                Some(other) => {
                    if kind == "alias" {
                        self.aliases.insert(other, name.to_owned());
                    } else if let Some(parents) = self.subclasses.get_mut(name) {
                        parents.push(other.to_owned());
                    } else {
                        self.subclasses.insert(name, vec![other.to_owned()]);
                    }
                    copy = true;
                }
                None => error = Some(format!("Incorrect or missing 'type' attribute in <{kind}>")),
            },
            "root-XML" => {
                let uri = field.attribute("namespaceURI");
                let local = field.attribute("localName");
                if let Err(e) = self.add_namespace(name, uri, local) {
                    error = Some(e);
                }
            }
            kind @ ("generic-icon" | "icon") => {
                if let Some(icon) = field.attribute("name") {
                    let table = if kind == "icon" {
                        &mut self.icons
                    } else {
                        &mut self.generic_icons
                    };
                    table.insert(name, icon.to_owned());
                    copy = true;
                }
            }
            _ => {}
        }
        match error {
            Some(e) => Err(e),
            None => Ok(copy),
        }
    }

    fn add_glob(&mut self, glob: Glob) {
        let pattern = glob.pattern.clone();
        if let Some(list) = self.globs.get_mut(&pattern) {
            list.push(glob);
        } else {
            self.globs.insert(&pattern, vec![glob]);
        }
    }

    /// `add_namespace`: a `<root-XML>` rule.
    fn add_namespace(&mut self, name: &str, uri: Option<&str>, local: Option<&str>) -> Result<(), String> {
        let uri = uri.ok_or("Missing 'namespaceURI' attribute'")?;
        let local = local.ok_or("Missing 'localName' attribute'")?;
        if uri.is_empty() && local.is_empty() {
            return Err("namespaceURI and localName attributes can't both be empty".to_owned());
        }
        if uri.contains([' ', '\n']) || local.contains([' ', '\n']) {
            return Err("namespaceURI and localName cannot contain spaces or newlines".to_owned());
        }
        self.namespaces.insert(&format!("{uri} {local}"), name.to_owned());
        Ok(())
    }
}

/// The order update-mime-database reads a packages directory: `*.xml` names by byte order, with
/// `Override.xml` last.
pub fn source_order(names: &[String]) -> Vec<String> {
    let mut files: Vec<String> = names
        .iter()
        .filter(|n| n.len() >= 4 && n.ends_with(".xml") && n.as_str() != "Override.xml")
        .cloned()
        .collect();
    files.sort();
    if names.iter().any(|n| n == "Override.xml") {
        files.push("Override.xml".to_owned());
    }
    files
}

fn is_free(node: roxmltree::Node<'_, '_>, local: &str) -> bool {
    node.tag_name().namespace() == Some(FREE_NS) && node.tag_name().name() == local
}

/// `get_int_attribute`: 50 when absent, -1 when not a whole number in 0..=100 (`strtol`'s
/// leading blanks and sign allowed, nothing after the digits).
fn int_attribute(node: roxmltree::Node<'_, '_>, name: &str) -> i32 {
    let Some(text) = node.attribute(name) else {
        return 50;
    };
    match magic::strtol(text) {
        Some((v, rest)) if rest.is_empty() && !text.is_empty() && (0..=100).contains(&v) => v as i32,
        _ => -1,
    }
}

/// `remove_old`: a new `<comment>` replaces the first one already copied with the same
/// `xml:lang` (or none).
fn remove_old(output: &mut Element, new: roxmltree::Node<'_, '_>) {
    if !is_free(new, "comment") {
        return;
    }
    let lang = new.attribute((XML_NS, "lang"));
    let same = output.children.iter().position(|c| match c {
        Node::Element(e) => {
            e.ns_uri.as_deref() == Some(FREE_NS)
                && e.name == "comment"
                && e.attrs
                    .iter()
                    .find(|a| a.prefix.as_deref() == Some("xml") && a.name == "lang")
                    .map(|a| a.value.as_str())
                    == lang
        }
        _ => false,
    });
    if let Some(i) = same {
        output.children.remove(i);
    }
}

/// `xmlDocCopyNode` of a field, then update-mime-database's removal of the namespace
/// declarations of a copy in the freedesktop.org default namespace (so `xmlns=` is not repeated
/// on every element).
fn copy_element(node: roxmltree::Node<'_, '_>) -> Element {
    let (mut copy, hoisted) = copy_tree(node, &[], true);
    // libxml2 declares a namespace that a descendant uses but only the source document's
    // ancestors declare on the top of the copy.
    copy.ns_decls.extend(hoisted);
    if copy.prefix.is_none() && copy.ns_uri.as_deref() == Some(FREE_NS) {
        copy.ns_decls.clear();
    }
    copy
}

/// The namespace declarations made on `node` itself (in-scope namespaces its parent lacks).
fn own_declarations(node: roxmltree::Node<'_, '_>) -> Vec<NsDecl> {
    let inherited: Vec<(Option<&str>, &str)> = node
        .parent_element()
        .map(|p| p.namespaces().map(|n| (n.name(), n.uri())).collect())
        .unwrap_or_default();
    node.namespaces()
        .filter(|n| n.name() != Some("xml") && !inherited.contains(&(n.name(), n.uri())))
        .map(|n| NsDecl {
            prefix: n.name().map(str::to_owned),
            uri: n.uri().to_owned(),
        })
        .collect()
}

/// A deep copy of `node` (`scope`: the declarations of the copied ancestors) and the
/// declarations it needs on the top of the copy.
fn copy_tree(node: roxmltree::Node<'_, '_>, scope: &[NsDecl], top: bool) -> (Element, Vec<NsDecl>) {
    let mut decls = own_declarations(node);
    let uri = node.tag_name().namespace().map(str::to_owned);
    let prefix = uri
        .as_deref()
        .and_then(|u| node.lookup_prefix(u))
        .map(str::to_owned);
    let mut hoisted: Vec<NsDecl> = Vec::new();
    if let Some(uri) = &uri
        && !decls.iter().chain(scope).any(|d| d.prefix == prefix)
    {
        let decl = NsDecl {
            prefix: prefix.clone(),
            uri: uri.clone(),
        };
        if top { decls.push(decl) } else { hoisted.push(decl) }
    }
    let attrs = node
        .attributes()
        .map(|a| Attr {
            prefix: match a.namespace() {
                Some(XML_NS) => Some("xml".to_owned()),
                Some(ns) => node.lookup_prefix(ns).map(str::to_owned),
                None => None,
            },
            name: a.name().to_owned(),
            value: a.value().to_owned(),
        })
        .collect();
    let mut inner: Vec<NsDecl> = scope.iter().chain(&decls).chain(&hoisted).cloned().collect();
    let mut children = Vec::new();
    for child in node.children() {
        match child.node_type() {
            roxmltree::NodeType::Element => {
                let (c, h) = copy_tree(child, &inner, false);
                inner.extend(h.iter().cloned());
                hoisted.extend(h);
                children.push(Node::Element(c));
            }
            roxmltree::NodeType::Text => children.push(Node::Text(child.text().unwrap_or("").to_owned())),
            roxmltree::NodeType::Comment => {
                children.push(Node::Comment(child.text().unwrap_or("").to_owned()))
            }
            roxmltree::NodeType::PI => {
                if let Some(pi) = child.pi() {
                    children.push(Node::Pi {
                        target: pi.target.to_owned(),
                        value: pi.value.map(str::to_owned),
                    });
                }
            }
            roxmltree::NodeType::Root => {}
        }
    }
    let element = Element {
        prefix,
        name: node.tag_name().name().to_owned(),
        ns_decls: decls,
        attrs,
        children,
        ns_uri: uri,
    };
    (element, hoisted)
}

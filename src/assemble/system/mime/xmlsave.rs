//! The per-type XML documents as libxml2 2.9 writes them with `xmlSaveFormatFileEnc(…, "utf-8",
//! 1)`: two-space indentation except inside elements holding text, `/>` for empty elements,
//! text escaped with `xmlEscapeContent` and attributes with `xmlBufAttrSerializeTxtContent`.
//! Hand-written because the bytes must be libxml2's, not those of a general XML writer.

/// A namespace declaration (`xmlns` or `xmlns:prefix`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NsDecl {
    pub prefix: Option<String>,
    pub uri: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attr {
    pub prefix: Option<String>,
    pub name: String,
    pub value: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Element {
    pub prefix: Option<String>,
    pub name: String,
    /// The namespace the element is in (what update-mime-database compares, not the prefix).
    pub ns_uri: Option<String>,
    pub ns_decls: Vec<NsDecl>,
    pub attrs: Vec<Attr>,
    pub children: Vec<Node>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Node {
    Element(Element),
    Text(String),
    Comment(String),
    Pi { target: String, value: Option<String> },
}

/// libxml2's indentation stops growing at 30 levels (`MAX_INDENT` of 60 / 2).
const MAX_INDENT_LEVELS: usize = 30;

/// The document whose root element is `root`, with its XML declaration.
pub fn document(root: &Element) -> Vec<u8> {
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n");
    element(&mut out, root, 0, true, true);
    out.push('\n');
    out.into_bytes()
}

fn indent(out: &mut String, level: usize) {
    for _ in 0..level.min(MAX_INDENT_LEVELS) {
        out.push_str("  ");
    }
}

fn qualified(out: &mut String, prefix: &Option<String>, name: &str) {
    if let Some(p) = prefix {
        out.push_str(p);
        out.push(':');
    }
    out.push_str(name);
}

fn element(out: &mut String, e: &Element, level: usize, format: bool, root: bool) {
    if !root && format {
        indent(out, level);
    }
    out.push('<');
    qualified(out, &e.prefix, &e.name);
    for ns in &e.ns_decls {
        if ns.prefix.as_deref() == Some("xml") {
            continue;
        }
        out.push_str(" xmlns");
        if let Some(p) = &ns.prefix {
            out.push(':');
            out.push_str(p);
        }
        out.push('=');
        quoted(out, &ns.uri);
    }
    for a in &e.attrs {
        out.push(' ');
        qualified(out, &a.prefix, &a.name);
        out.push_str("=\"");
        escape_attribute(out, &a.value);
        out.push('"');
    }
    if e.children.is_empty() {
        out.push_str("/>");
        return;
    }
    // An element holding text is written as it is: no indentation added inside it.
    let inner = format && !e.children.iter().any(|c| matches!(c, Node::Text(_)));
    out.push('>');
    if inner {
        out.push('\n');
    }
    for child in &e.children {
        match child {
            Node::Element(c) => element(out, c, level + 1, inner, false),
            Node::Text(t) => escape_text(out, t),
            Node::Comment(c) => {
                if inner {
                    indent(out, level + 1);
                }
                out.push_str("<!--");
                out.push_str(c);
                out.push_str("-->");
            }
            Node::Pi { target, value } => {
                if inner {
                    indent(out, level + 1);
                }
                out.push_str("<?");
                out.push_str(target);
                if let Some(v) = value {
                    out.push(' ');
                    out.push_str(v);
                }
                out.push_str("?>");
            }
        }
        if inner {
            out.push('\n');
        }
    }
    if inner {
        indent(out, level);
    }
    out.push_str("</");
    qualified(out, &e.prefix, &e.name);
    out.push('>');
}

/// `xmlBufWriteQuotedString`: double quotes unless the value has one, then single quotes (or
/// `&quot;` when it has both).
fn quoted(out: &mut String, value: &str) {
    if !value.contains('"') {
        out.push('"');
        out.push_str(value);
        out.push('"');
    } else if !value.contains('\'') {
        out.push('\'');
        out.push_str(value);
        out.push('\'');
    } else {
        out.push('"');
        out.push_str(&value.replace('"', "&quot;"));
        out.push('"');
    }
}

/// `xmlEscapeContent`.
fn escape_text(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '\r' => out.push_str("&#13;"),
            c => out.push(c),
        }
    }
}

/// `xmlBufAttrSerializeTxtContent` with the document's encoding set (UTF-8 passes through).
fn escape_attribute(out: &mut String, value: &str) {
    for c in value.chars() {
        match c {
            '\n' => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            '\t' => out.push_str("&#9;"),
            '"' => out.push_str("&quot;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            c => out.push(c),
        }
    }
}

//! The schema files `glib-compile-schemas` reads (`*.gschema.xml`, `*.enums.xml`) and the
//! override files it applies (`*.gschema.override`), into the tables it writes: GLib 2.74's
//! `glib-compile-schemas.c`, element by element.
//!
//! The tool drops a schema file it finds an error in and goes on; dropping one takes its schemas
//! back out of GLib's hash table, which changes where later ones land. debcast does not follow
//! the tool there: an error in a schema file makes the whole compile a reported effect. An error
//! in an override file or one of its keys is skipped as the tool skips it.

use roxmltree::{Document, Node};

use super::super::clib::is_space_char as is_space;
use super::super::ghash::StrTable;
use super::gvariant::{self, ParseError, Value};
use super::gvdb::{Content, Table};

/// What stops the compile from being reproduced.
pub type Unreproduced = String;

#[derive(Debug, Clone)]
struct EnumState {
    strinfo: Vec<u8>,
}

#[derive(Debug, Clone, Default)]
struct KeyState {
    child_schema: Option<String>,
    ty: String,
    have_gettext_domain: bool,
    l10n: Option<u8>,
    l10n_context: Option<String>,
    unparsed_default: Option<String>,
    default: Option<Value>,
    desktop_overrides: Option<StrTable<Value>>,
    strinfo: Vec<u8>,
    is_enum: bool,
    is_flags: bool,
    range: Option<(Value, Value)>,
    has_choices: bool,
    has_aliases: bool,
    is_override: bool,
}

#[derive(Debug)]
struct SchemaState {
    path: Option<String>,
    gettext_domain: Option<String>,
    extends_name: Option<String>,
    list_of: Option<String>,
    keys: StrTable<KeyState>,
}

/// Every schema, enum and flags type read so far, in GLib's tables.
#[derive(Debug, Default)]
pub struct Compiler {
    schemas: StrTable<SchemaState>,
    enums: StrTable<EnumState>,
    flags: StrTable<EnumState>,
    allow_any_name: bool,
}

// ---------------------------------------------------------------------------------------------
// strinfo (`strinfo.c`): the words a key's choices, enum or flags are stored as

fn string_words(s: &str, alias: bool) -> Result<Vec<u8>, String> {
    let n_words = 2usize.max((s.len() + 6) >> 2);
    if n_words > 17 {
        return Err(format!("`{s}` is too long for a choice, enum or flags nick"));
    }
    let mut w = vec![0u8; 4 * n_words];
    w[0] = if alias { 0xfe } else { 0xff };
    w[4 * n_words - 1] = 0xff;
    w[1..1 + s.len()].copy_from_slice(s.as_bytes());
    w[1 + s.len()] = 0;
    Ok(w)
}

fn words(bytes: &[u8]) -> Vec<u32> {
    bytes
        .chunks_exact(4)
        .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect()
}

/// `strinfo_find_string`: the word index of `s` in `strinfo` (its value word before it).
fn strinfo_find(strinfo: &[u8], s: &str, alias: bool) -> Option<usize> {
    let info = words(strinfo);
    if info.is_empty() {
        return None;
    }
    let want = words(&string_words(s, alias).ok()?);
    let hay = &info[1..];
    let n = want.len();
    if hay.len() < n {
        return None;
    }
    let mut i = 0;
    while i <= hay.len() - n {
        let mut j = 0;
        while j < n && hay[i + j] == want[j] {
            j += 1;
        }
        if j == n {
            return Some(i);
        }
        i += j.max(1);
    }
    None
}

fn strinfo_contains(strinfo: &[u8], s: &str) -> bool {
    strinfo_find(strinfo, s, false).is_some() || strinfo_find(strinfo, s, true).is_some()
}

fn strinfo_contains_value(strinfo: &[u8], value: u32) -> bool {
    let info = words(strinfo);
    (0..info.len()).any(|i| {
        info[i] == value && (i == 0 || strinfo[4 * i - 1] == 0xff) && strinfo.get(4 * i + 4) == Some(&0xff)
    })
}

fn strinfo_append(strinfo: &mut Vec<u8>, s: &str, value: u32, alias: bool) -> Result<(), String> {
    strinfo.extend_from_slice(&value.to_le_bytes());
    strinfo.extend(string_words(s, alias)?);
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Markup

/// `g_markup_collect_attributes`: the named attributes (`None` when absent), an error for a
/// missing required one or one the element does not take.
fn collect<'a>(
    node: Node<'a, '_>,
    required: &[&str],
    optional: &[&str],
) -> Result<Vec<Option<&'a str>>, String> {
    let element = node.tag_name().name();
    for a in node.attributes() {
        if a.namespace().is_some() || !(required.contains(&a.name()) || optional.contains(&a.name())) {
            return Err(format!(
                "attribute “{}” invalid for element “{element}”",
                a.name()
            ));
        }
    }
    let mut out = Vec::new();
    for name in required {
        match node.attribute(*name) {
            Some(v) => out.push(Some(v)),
            None => return Err(format!("element “{element}” requires attribute “{name}”")),
        }
    }
    for name in optional {
        out.push(node.attribute(*name));
    }
    Ok(out)
}

/// The element's text, as GMarkup hands it over in pieces.
fn text_of(node: Node<'_, '_>) -> String {
    node.children()
        .filter(|c| c.is_text())
        .filter_map(|c| c.text())
        .collect()
}

/// Text where none is taken: white space only.
fn no_text(node: Node<'_, '_>) -> Result<(), String> {
    if text_of(node).chars().all(is_space) {
        Ok(())
    } else {
        Err(format!("Text may not appear inside <{}>", node.tag_name().name()))
    }
}

fn elements<'a, 'i>(node: Node<'a, 'i>) -> impl Iterator<Item = Node<'a, 'i>> {
    node.children().filter(|c| c.is_element())
}

fn parse_value(ty: &str, text: &str) -> Result<Value, String> {
    gvariant::parse(ty, text).map_err(|e| match e {
        ParseError::Invalid(m) => format!("Failed to parse `{}` as type “{ty}”: {m}", text.trim()),
        ParseError::Unsupported(m) => format!("`{}`: {m}", text.trim()),
    })
}

fn is_valid_choices(value: &Value, strinfo: &[u8]) -> bool {
    value
        .strings()
        .iter()
        .all(|s| strinfo_find(strinfo, s, false).is_some())
}

impl KeyState {
    fn check_range(&self) -> Result<(), String> {
        let Some(default) = &self.default else {
            return Ok(());
        };
        let tag = if self.is_override { "override" } else { "default" };
        if let Some((min, max)) = &self.range {
            if default.outside(min, max) {
                return Err(format!("<{tag}> is not contained in the specified range"));
            }
        } else if !self.strinfo.is_empty() && !is_valid_choices(default, &self.strinfo) {
            return Err(format!(
                "<{tag}> holds a string outside its choices, enum or flags"
            ));
        }
        Ok(())
    }

    fn start_default(&mut self, l10n: Option<&str>, context: Option<&str>) -> Result<(), String> {
        if let Some(l10n) = l10n {
            self.l10n = Some(match l10n {
                "messages" => b'm',
                "time" => b't',
                other => return Err(format!("unsupported l10n category: {other}")),
            });
            if !self.have_gettext_domain {
                return Err("l10n requested, but no gettext domain given".into());
            }
            self.l10n_context = context.map(str::to_owned);
        } else if context.is_some() {
            return Err("translation context given for value without l10n enabled".into());
        }
        Ok(())
    }

    fn end_default(&mut self, text: String) -> Result<(), String> {
        self.default = Some(parse_value(&self.ty, &text)?);
        self.unparsed_default = Some(text);
        self.check_range()
    }

    fn set_range(&mut self, min: Option<&str>, max: Option<&str>) -> Result<(), String> {
        const LIMITS: [(u8, &str, &str); 8] = [
            (b'y', "0", "255"),
            (b'n', "-32768", "32767"),
            (b'q', "0", "65535"),
            (b'i', "-2147483648", "2147483647"),
            (b'u', "0", "4294967295"),
            (b'x', "-9223372036854775808", "9223372036854775807"),
            (b't', "0", "18446744073709551615"),
            (b'd', "-inf", "inf"),
        ];
        if self.range.is_some() {
            return Err("<range/> already specified for this key".into());
        }
        let Some((_, dmin, dmax)) = LIMITS
            .iter()
            .find(|(t, ..)| self.ty.as_bytes().first() == Some(t))
        else {
            return Err(format!("<range> not allowed for keys of type “{}”", self.ty));
        };
        let (min, max) = (min.unwrap_or(dmin), max.unwrap_or(dmax));
        let (lo, hi) = (parse_value(&self.ty, min)?, parse_value(&self.ty, max)?);
        if lo.greater(&hi) {
            return Err("<range> specified minimum is greater than maximum".into());
        }
        self.range = Some((lo, hi));
        self.check_range()
    }

    /// `key_state_serialise`.
    fn serialise(&self) -> Result<Value, String> {
        if let Some(child) = &self.child_schema {
            return Ok(Value::Str(child.clone()));
        }
        let Some(default) = &self.default else {
            return Err("a key without a default".into());
        };
        let mut items = vec![default.clone()];
        if let Some(l10n) = self.l10n {
            let raw = self.unparsed_default.as_deref().unwrap_or_default();
            let mut message = raw.trim_matches(is_space).to_owned();
            if let Some(ctx) = &self.l10n_context {
                message = format!("{ctx}\u{4}{message}");
            }
            items.push(Value::Tuple(vec![
                Value::Byte(b'l'),
                Value::Tuple(vec![Value::Byte(l10n), Value::Str(message)]),
            ]));
        }
        if !self.strinfo.is_empty() {
            let tag = if self.is_flags {
                b'f'
            } else if self.is_enum {
                b'e'
            } else {
                b'c'
            };
            let array = words(&self.strinfo).into_iter().map(Value::U32).collect();
            items.push(Value::Tuple(vec![
                Value::Byte(tag),
                Value::Array("au".into(), array),
            ]));
        }
        if let Some((min, max)) = &self.range {
            items.push(Value::Tuple(vec![
                Value::Byte(b'r'),
                Value::Tuple(vec![min.clone(), max.clone()]),
            ]));
        }
        if let Some(overrides) = &self.desktop_overrides {
            let entries = overrides
                .iter()
                .map(|(k, v)| {
                    Value::DictEntry(
                        Box::new(Value::Str(k.to_owned())),
                        Box::new(Value::Variant(Box::new(v.clone()))),
                    )
                })
                .collect();
            items.push(Value::Tuple(vec![
                Value::Byte(b'd'),
                Value::Array("a{sv}".into(), entries),
            ]));
        }
        Ok(Value::Tuple(items))
    }
}

impl Compiler {
    pub fn new(allow_any_name: bool) -> Self {
        Compiler {
            allow_any_name,
            ..Self::default()
        }
    }

    fn check_name(&self, key: &str) -> Result<(), String> {
        if key.is_empty() {
            return Err("Empty names are not permitted".into());
        }
        if self.allow_any_name {
            return Ok(());
        }
        let b = key.as_bytes();
        let ok = b[0].is_ascii_lowercase()
            && b.iter()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
            && !key.contains("--")
            && !key.ends_with('-')
            && b.len() <= 1024;
        if ok {
            Ok(())
        } else {
            Err(format!("Invalid name “{key}”"))
        }
    }

    /// One schema file, as `parse_gschema_files` reads it.
    pub fn read_file(&mut self, name: &str, text: &str) -> Result<(), Unreproduced> {
        // GMarkup skips a document type declaration (schema files name gschema.dtd).
        let options = roxmltree::ParsingOptions {
            allow_dtd: true,
            ..roxmltree::ParsingOptions::default()
        };
        let doc = Document::parse_with_options(text, options).map_err(|e| format!("{name}: {e}"))?;
        let root = doc.root_element();
        let result = if root.tag_name().name() == "schemalist" && root.tag_name().namespace().is_none() {
            self.schemalist(root)
        } else {
            Err(format!(
                "Element <{}> not allowed at the top level",
                root.tag_name().name()
            ))
        };
        result.map_err(|e| format!("{name}: {e} (glib-compile-schemas drops the file)"))
    }

    fn schemalist(&mut self, node: Node<'_, '_>) -> Result<(), String> {
        let a = collect(node, &[], &["gettext-domain"])?;
        let domain = a[0];
        no_text(node)?;
        for child in elements(node) {
            if child.tag_name().namespace().is_some() {
                return Err("a namespaced element (ignored by GMarkup) is not reproduced".into());
            }
            match child.tag_name().name() {
                "schema" => self.schema(child, domain)?,
                e @ ("enum" | "flags") => self.enumeration(child, e == "flags")?,
                other => return Err(format!("Element <{other}> not allowed inside <schemalist>")),
            }
        }
        Ok(())
    }

    fn enumeration(&mut self, node: Node<'_, '_>, is_flags: bool) -> Result<(), String> {
        let a = collect(node, &["id"], &[])?;
        let id = a[0].unwrap_or_default();
        let table = if is_flags { &self.flags } else { &self.enums };
        if table.contains(id) {
            return Err(format!(
                "<{}> id='{id}' already specified",
                node.tag_name().name()
            ));
        }
        let mut state = EnumState { strinfo: Vec::new() };
        no_text(node)?;
        for v in elements(node) {
            if v.tag_name().name() != "value" {
                return Err(format!("Element <{}> not allowed here", v.tag_name().name()));
            }
            let a = collect(v, &["nick", "value"], &[])?;
            let (nick, valuestr) = (a[0].unwrap_or_default(), a[1].unwrap_or_default());
            no_text(v)?;
            if elements(v).next().is_some() {
                return Err("Element not allowed inside <value>".into());
            }
            if nick.len() < 2 {
                return Err("nick must be a minimum of 2 characters".into());
            }
            let value = parse_c_integer(valuestr).ok_or("Invalid numeric value")?;
            let out_of_range = if is_flags {
                !(0..=u32::MAX as i64).contains(&value)
            } else {
                !(i32::MIN as i64..=i32::MAX as i64).contains(&value)
            };
            if out_of_range {
                return Err("Invalid numeric value".into());
            }
            if strinfo_contains(&state.strinfo, nick) {
                return Err(format!("<value nick='{nick}'/> already specified"));
            }
            if strinfo_contains_value(&state.strinfo, value as u32) {
                return Err(format!("value='{valuestr}' already specified"));
            }
            if is_flags && value == 0 {
                continue;
            }
            if is_flags && (value & (value - 1)) != 0 {
                return Err("flags values must have at most 1 bit set".into());
            }
            strinfo_append(&mut state.strinfo, nick, value as u32, false)?;
        }
        if state.strinfo.is_empty() {
            return Err(format!(
                "<{}> must contain at least one <value>",
                node.tag_name().name()
            ));
        }
        let table = if is_flags {
            &mut self.flags
        } else {
            &mut self.enums
        };
        table.insert(id, state);
        Ok(())
    }

    fn schema(&mut self, node: Node<'_, '_>, list_domain: Option<&str>) -> Result<(), String> {
        let a = collect(node, &["id"], &["path", "gettext-domain", "extends", "list-of"])?;
        let id = a[0].unwrap_or_default();
        let (path, domain, extends, mut list_of) =
            (a[1], a[2].or(list_domain), a[3], a[4].map(str::to_owned));
        if self.schemas.contains(id) {
            return Err(format!("<schema id='{id}'> already specified"));
        }
        if let Some(e) = extends {
            let Some(parent) = self.schemas.get(e) else {
                return Err(format!(
                    "<schema id='{id}'> extends not yet existing schema “{e}”"
                ));
            };
            if parent.path.is_some() {
                return Err("Cannot extend a schema with a path".into());
            }
            if list_of.is_some() {
                return Err("a list extending another schema is not reproduced".into());
            }
            list_of = parent.list_of.clone();
        }
        if let Some(l) = &list_of
            && extends.is_none()
        {
            match self.schemas.get(l) {
                None => {
                    return Err(format!(
                        "<schema id='{id}'> is list of not yet existing schema “{l}”"
                    ));
                }
                Some(s) if s.path.is_some() => return Err("Cannot be a list of a schema with a path".into()),
                Some(_) => {}
            }
        }
        if let Some(p) = path {
            if !(p.starts_with('/') && p.ends_with('/')) {
                return Err("A path, if given, must begin and end with a slash".into());
            }
            if list_of.is_some() && !p.ends_with(":/") {
                return Err("The path of a list must end with “:/”".into());
            }
        }
        self.schemas.insert(
            id,
            SchemaState {
                path: path.map(str::to_owned),
                gettext_domain: domain.map(str::to_owned),
                extends_name: extends.map(str::to_owned),
                list_of,
                keys: StrTable::new(),
            },
        );
        no_text(node)?;
        for child in elements(node) {
            match child.tag_name().name() {
                "key" => self.key(child, id)?,
                "child" => {
                    let a = collect(child, &["name", "schema"], &[])?;
                    let (name, schema) = (a[0].unwrap_or_default(), a[1].unwrap_or_default());
                    no_text(child)?;
                    if elements(child).next().is_some() {
                        return Err("Element not allowed inside <child>".into());
                    }
                    self.check_name(name)?;
                    let childname = format!("{name}/");
                    let keys = &mut self.schema_mut(id)?.keys;
                    if keys.contains(&childname) {
                        return Err(format!("<child name='{name}'> already specified"));
                    }
                    keys.insert(
                        &childname,
                        KeyState {
                            child_schema: Some(schema.to_owned()),
                            ..KeyState::default()
                        },
                    );
                }
                "override" => self.override_element(child, id)?,
                other => return Err(format!("Element <{other}> not allowed inside <schema>")),
            }
        }
        Ok(())
    }

    fn schema_mut(&mut self, id: &str) -> Result<&mut SchemaState, String> {
        self.schemas
            .get_mut(id)
            .ok_or_else(|| format!("schema {id} vanished while it was read"))
    }

    /// The schemas `id` extends, nearest first.
    fn ancestors(&self, id: &str) -> Vec<&SchemaState> {
        let mut out = Vec::new();
        let mut next = self.schemas.get(id).and_then(|s| s.extends_name.clone());
        while let Some(n) = next {
            let Some(s) = self.schemas.get(&n) else { break };
            out.push(s);
            next = s.extends_name.clone();
            if out.len() > 64 {
                break;
            }
        }
        out
    }

    fn key(&mut self, node: Node<'_, '_>, schema_id: &str) -> Result<(), String> {
        let a = collect(node, &["name"], &["type", "enum", "flags"])?;
        let (name, type_string, enum_type, flags_type) = (a[0].unwrap_or_default(), a[1], a[2], a[3]);
        let schema = self.schemas.get(schema_id).ok_or("schema vanished")?;
        if schema.list_of.is_some() {
            return Err("Cannot add keys to a “list-of” schema".into());
        }
        self.check_name(name)?;
        if schema.keys.contains(name) {
            return Err(format!("<key name='{name}'> already specified"));
        }
        if self
            .ancestors(schema_id)
            .iter()
            .any(|s| s.keys.get(name).is_some_and(|k| !k.is_override))
        {
            return Err(format!(
                "<key name='{name}'> shadows a key of the schema it extends"
            ));
        }
        let given = [type_string, enum_type, flags_type]
            .iter()
            .filter(|x| x.is_some())
            .count();
        if given != 1 {
            return Err(
                "Exactly one of “type”, “enum” or “flags” must be specified as an attribute to <key>".into(),
            );
        }
        let mut key = KeyState {
            have_gettext_domain: schema.gettext_domain.is_some(),
            is_enum: enum_type.is_some(),
            is_flags: flags_type.is_some(),
            ..KeyState::default()
        };
        if let Some(t) = type_string {
            if !gvariant::is_type(t) {
                return Err(format!("Invalid (or indefinite) GVariant type string “{t}”"));
            }
            key.ty = t.to_owned();
        } else {
            let state = match (enum_type, flags_type) {
                (Some(e), _) => self.enums.get(e),
                (_, Some(f)) => self.flags.get(f),
                _ => None,
            };
            let Some(state) = state else {
                return Err(format!(
                    "<{} id='{}'> not (yet) defined.",
                    if flags_type.is_some() { "flags" } else { "enum" },
                    flags_type.or(enum_type).unwrap_or_default()
                ));
            };
            key.ty = if flags_type.is_some() { "as" } else { "s" }.into();
            key.strinfo = state.strinfo.clone();
        }
        no_text(node)?;
        for child in elements(node) {
            match child.tag_name().name() {
                "default" => {
                    let a = collect(child, &[], &["l10n", "context"])?;
                    key.start_default(a[0], a[1])?;
                    if elements(child).next().is_some() {
                        return Err("Element not allowed inside <default>".into());
                    }
                    key.end_default(text_of(child))?;
                }
                "summary" | "description" => {
                    collect(child, &[], &[])?;
                    if elements(child).next().is_some() {
                        return Err(format!(
                            "Element not allowed inside <{}>",
                            child.tag_name().name()
                        ));
                    }
                }
                "range" => {
                    let a = collect(child, &[], &["min", "max"])?;
                    no_text(child)?;
                    if elements(child).next().is_some() {
                        return Err("Element not allowed inside <range>".into());
                    }
                    key.set_range(a[0], a[1])?;
                }
                "choices" => {
                    collect(child, &[], &[])?;
                    if key.is_enum {
                        return Err(
                            "<choices> cannot be specified for keys tagged as having an enumerated type"
                                .into(),
                        );
                    }
                    if key.has_choices {
                        return Err("<choices> already specified for this key".into());
                    }
                    if key.ty.trim_start_matches(['a', 'm']) != "s" {
                        return Err(format!("<choices> not allowed for keys of type “{}”", key.ty));
                    }
                    no_text(child)?;
                    for c in elements(child) {
                        if c.tag_name().name() != "choice" {
                            return Err(format!(
                                "Element <{}> not allowed inside <choices>",
                                c.tag_name().name()
                            ));
                        }
                        let a = collect(c, &["value"], &[])?;
                        no_text(c)?;
                        let value = a[0].unwrap_or_default();
                        if strinfo_contains(&key.strinfo, value) {
                            return Err(format!("<choice value='{value}'/> already given"));
                        }
                        strinfo_append(&mut key.strinfo, value, 0, false)?;
                        key.has_choices = true;
                    }
                    if !key.has_choices {
                        return Err("<choices> must contain at least one <choice>".into());
                    }
                    key.check_range()?;
                }
                "aliases" => {
                    collect(child, &[], &[])?;
                    if key.has_aliases {
                        return Err("<aliases> already specified for this key".into());
                    }
                    if !key.is_flags && !key.is_enum && !key.has_choices {
                        return Err("<aliases> can only be specified for keys with enumerated or flags types or after <choices>".into());
                    }
                    no_text(child)?;
                    for c in elements(child) {
                        if c.tag_name().name() != "alias" {
                            return Err(format!(
                                "Element <{}> not allowed inside <aliases>",
                                c.tag_name().name()
                            ));
                        }
                        let a = collect(c, &["value", "target"], &[])?;
                        no_text(c)?;
                        let (alias, target) = (a[0].unwrap_or_default(), a[1].unwrap_or_default());
                        if strinfo_contains(&key.strinfo, alias) {
                            return Err(format!("<alias value='{alias}'/> already specified"));
                        }
                        let Some(index) = strinfo_find(&key.strinfo, target, false) else {
                            return Err(format!(
                                "alias target “{target}” is not in the choices or enumerated type"
                            ));
                        };
                        strinfo_append(&mut key.strinfo, alias, index as u32, true)?;
                        key.has_aliases = true;
                    }
                    if !key.has_aliases {
                        return Err("<aliases> must contain at least one <alias>".into());
                    }
                }
                other => return Err(format!("Element <{other}> not allowed inside <key>")),
            }
        }
        if key.default.is_none() {
            return Err("Element <default> is required in <key>".into());
        }
        self.schema_mut(schema_id)?.keys.insert(name, key);
        Ok(())
    }

    fn override_element(&mut self, node: Node<'_, '_>, schema_id: &str) -> Result<(), String> {
        let a = collect(node, &["name"], &["l10n", "context"])?;
        let (name, l10n, context) = (a[0].unwrap_or_default(), a[1], a[2]);
        let schema = self.schemas.get(schema_id).ok_or("schema vanished")?;
        if schema.extends_name.is_none() {
            return Err("<override> given but schema isn’t extending anything".into());
        }
        let Some(original) = self
            .ancestors(schema_id)
            .iter()
            .find_map(|s| s.keys.get(name))
            .cloned()
        else {
            return Err(format!("No <key name='{name}'> to override"));
        };
        if schema.keys.contains(name) {
            return Err(format!("<override name='{name}'> already specified"));
        }
        if original.child_schema.is_some() {
            return Err("an <override> of a child is not reproduced".into());
        }
        let mut key = KeyState {
            ty: original.ty.clone(),
            have_gettext_domain: schema.gettext_domain.is_some(),
            strinfo: original.strinfo.clone(),
            is_enum: original.is_enum,
            is_flags: original.is_flags,
            is_override: true,
            range: original.range.clone(),
            ..KeyState::default()
        };
        key.start_default(l10n, context)?;
        if elements(node).next().is_some() {
            return Err("Element not allowed inside <override>".into());
        }
        key.end_default(text_of(node))?;
        self.schema_mut(schema_id)?.keys.insert(name, key);
        Ok(())
    }

    /// One override file, as `set_overrides` applies it: a file the key-file parser refuses is
    /// ignored; so is a key the schema lacks, a value that does not parse or is outside the
    /// key's range or choices. `Err`: a value debcast cannot decide.
    pub fn apply_overrides(&mut self, text: &str) -> Result<(), Unreproduced> {
        let Some(groups) = super::super::keyfile::parse(text) else {
            return Ok(());
        };
        for (group, entries) in groups {
            let (schema_name, desktop) = match group.split_once(':') {
                Some((s, d)) => (s, Some(d)),
                None => (group.as_str(), None),
            };
            let Some(schema) = self.schemas.get_mut(schema_name) else {
                continue;
            };
            for (key, raw) in entries {
                let Some(state) = schema.keys.get_mut(&key) else {
                    continue;
                };
                if state.child_schema.is_some() {
                    return Err(format!("an override of the child `{key}` of {schema_name}"));
                }
                if desktop.is_some() && state.l10n.is_some() {
                    continue;
                }
                let value = match gvariant::parse(&state.ty, &raw) {
                    Ok(v) => v,
                    Err(ParseError::Invalid(_)) => continue,
                    Err(ParseError::Unsupported(m)) => {
                        return Err(format!("the override of {schema_name} {key} `{raw}`: {m}"));
                    }
                };
                if let Some((min, max)) = &state.range {
                    if value.outside(min, max) {
                        continue;
                    }
                } else if !state.strinfo.is_empty() && !is_valid_choices(&value, &state.strinfo) {
                    continue;
                }
                match desktop {
                    Some(d) => state
                        .desktop_overrides
                        .get_or_insert_with(StrTable::new)
                        .insert(d, value),
                    None => state.default = Some(value),
                }
            }
        }
        Ok(())
    }

    /// `write_to_file`'s tables.
    pub fn into_table(self) -> Result<Table, Unreproduced> {
        let mut root = Table::new();
        root.insert("", None, Content::Empty);
        for (id, schema) in self.schemas.iter() {
            let mut table = Table::new();
            table.insert("", None, Content::Empty);
            let mut l10n = false;
            for (name, key) in schema.keys.iter() {
                table.insert(
                    name,
                    Some(""),
                    Content::Value(key.serialise().map_err(|e| format!("{id} {name}: {e}"))?),
                );
                l10n |= key.l10n.is_some();
            }
            let strings = [
                (".path", schema.path.as_deref()),
                (".extends", schema.extends_name.as_deref()),
                (".list-of", schema.list_of.as_deref()),
                (
                    ".gettext-domain",
                    schema.gettext_domain.as_deref().filter(|_| l10n),
                ),
            ];
            for (name, value) in strings {
                if let Some(v) = value {
                    table.insert(name, None, Content::Value(Value::Str(v.to_owned())));
                }
            }
            root.insert(id, Some(""), Content::Table(table));
        }
        Ok(root)
    }
}

/// `g_ascii_strtoll (s, &end, 0)` over the whole string.
fn parse_c_integer(s: &str) -> Option<i64> {
    let (neg, t) = super::super::clib::sign(s);
    let v = i128::from(super::super::clib::magnitude(t)?);
    let v = if neg { -v } else { v };
    i64::try_from(v).ok()
}

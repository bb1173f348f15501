//! GLib's key-file reader (`gkeyfile.c`), as `glib-compile-schemas` loads an override file and
//! `update-desktop-database` a desktop entry: groups in the order they first appear, keys in the
//! order they first appear in their group (a repeated key takes the later value, a repeated group
//! is the same group), values raw (`g_key_file_get_value`); [`string_list`] unescapes a list as
//! `g_key_file_get_string_list` does. Localised keys (`key[xx]`) are left out: neither tool reads
//! one.

use super::clib::is_space_char as is_space;

/// A group's name and its keys with their raw values.
pub type Group = (String, Vec<(String, String)>);

/// `g_key_file_is_group_name`.
fn is_group_name(name: &str) -> bool {
    !name.is_empty() && !name.chars().any(|c| c == '[' || c == ']' || c.is_ascii_control())
}

/// `g_key_file_is_key_name`: the key and its locale, if it is a valid key.
fn key_and_locale(key: &str) -> Option<(&str, Option<&str>)> {
    let base_end = key.find(['=', '[', ']']).unwrap_or(key.len());
    let base = &key[..base_end];
    if base.is_empty() || base.starts_with(' ') || base.ends_with(' ') {
        return None;
    }
    let rest = &key[base_end..];
    if rest.is_empty() {
        return Some((base, None));
    }
    let locale = rest.strip_prefix('[')?.strip_suffix(']')?;
    locale
        .chars()
        .all(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | '.' | '@'))
        .then_some((base, Some(locale)))
}

/// The file's groups, or `None` when GLib refuses to load it (the tool then ignores the file).
pub fn parse(text: &str) -> Option<Vec<Group>> {
    let mut groups: Vec<Group> = Vec::new();
    let mut current: Option<usize> = None;
    let lines = text.split('\n').map(|l| l.strip_suffix('\r').unwrap_or(l));
    for line in lines {
        let start = line.trim_start_matches(is_space);
        if start.is_empty() || start.starts_with('#') {
            continue;
        }
        if let Some(after) = start.strip_prefix('[') {
            // A group line: `[` NAME `]`, only blanks and tabs after.
            if let Some(close) = after.find(']')
                && after[close + 1..].chars().all(|c| c == ' ' || c == '\t')
            {
                let end = after.rfind(']').unwrap_or(close);
                let name = &after[..end];
                if !is_group_name(name) {
                    return None;
                }
                current = Some(match groups.iter().position(|(g, _)| g == name) {
                    Some(i) => i,
                    None => {
                        groups.push((name.to_owned(), Vec::new()));
                        groups.len() - 1
                    }
                });
                continue;
            }
        }
        let eq = start.find('=').filter(|i| *i > 0)?;
        let group = current?;
        let key = start[..eq].trim_end_matches(is_space);
        let value = start[eq + 1..].trim_start_matches(is_space);
        let (_, locale) = key_and_locale(key)?;
        if group == 0 && key == "Encoding" && !value.eq_ignore_ascii_case("UTF-8") {
            return None;
        }
        if locale.is_some() {
            continue;
        }
        let entries = &mut groups[group].1;
        match entries.iter_mut().find(|(k, _)| k == key) {
            Some(entry) => entry.1 = value.to_owned(),
            None => entries.push((key.to_owned(), value.to_owned())),
        }
    }
    Some(groups)
}

/// `g_key_file_get_string_list` of a raw value: the pieces between unescaped `;`, with `\s`,
/// `\n`, `\t`, `\r`, `\\` and `\;` unescaped, a last piece only when it is not empty; `None`
/// for an escape GLib refuses (the value "cannot be interpreted").
pub fn string_list(raw: &str) -> Option<Vec<String>> {
    let mut pieces = Vec::new();
    let mut piece = String::new();
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => piece.push(match chars.next()? {
                's' => ' ',
                'n' => '\n',
                't' => '\t',
                'r' => '\r',
                '\\' => '\\',
                ';' => ';',
                _ => return None,
            }),
            ';' => pieces.push(std::mem::take(&mut piece)),
            c => piece.push(c),
        }
    }
    if !piece.is_empty() {
        pieces.push(piece);
    }
    Some(pieces)
}

/// `g_key_file_get_boolean` of a raw value: `true`/`1`, `false`/`0` (trailing blanks ignored);
/// `None` for anything else (an error, which callers take as false).
pub fn boolean(raw: &str) -> Option<bool> {
    match raw.trim_end_matches(|c: char| is_space(c)) {
        "true" | "1" => Some(true),
        "false" | "0" => Some(false),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn groups_keys_and_refusals() {
        let text = "# c\n[a.b]\nk = 'x' \n\n[c:GNOME]\nn=1\r\n[a.b]\nk=2\nl[de]=3\nm=4";
        let groups = super::parse(text).expect("loads");
        assert_eq!(
            groups,
            vec![
                (
                    "a.b".to_owned(),
                    vec![("k".to_owned(), "2".to_owned()), ("m".to_owned(), "4".to_owned())]
                ),
                ("c:GNOME".to_owned(), vec![("n".to_owned(), "1".to_owned())]),
            ]
        );
        // A key before any group, a line that is neither, a bad key name: not loaded.
        assert_eq!(super::parse("k=1\n[g]\n"), None);
        assert_eq!(super::parse("[g]\nnonsense\n"), None);
        assert_eq!(super::parse("[g]\n k =1\n[g]\n a]=1\n"), None);
    }
}

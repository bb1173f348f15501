//! `<magic>`/`<treemagic>` rules: parsing their `<match>`/`<treematch>` elements (values, masks,
//! offsets, C escapes as update-mime-database reads them) and writing the `magic` and
//! `treemagic` files.

/// The namespace of shared-mime-info's elements.
pub const FREE_NS: &str = "http://www.freedesktop.org/standards/shared-mime-info";

/// A parsed `<match>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Match {
    pub range_start: i64,
    pub range_length: i32,
    pub word_size: u8,
    pub data: Vec<u8>,
    pub mask: Option<Vec<u8>>,
    pub matches: Vec<Match>,
}

impl Match {
    /// `match_new()` with only its data set (`<magic-deleteall/>`'s marker).
    pub fn data_only(data: Vec<u8>) -> Match {
        Match {
            range_start: 0,
            range_length: 1,
            word_size: 1,
            data,
            mask: None,
            matches: Vec::new(),
        }
    }
}

/// A parsed `<treematch>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TreeMatch {
    pub path: String,
    pub match_case: bool,
    pub executable: bool,
    pub non_empty: bool,
    /// 0 any, 1 file, 2 directory, 3 link.
    pub kind: u8,
    pub mimetype: Option<String>,
    pub matches: Vec<TreeMatch>,
}

fn expect_element(node: roxmltree::Node<'_, '_>, name: &str) -> Result<(), String> {
    if node.tag_name().namespace() != Some(FREE_NS) {
        return Err("Element found with non-freedesktop.org namespace".to_owned());
    }
    if node.tag_name().name() != name {
        return Err(format!(
            "Expected <{name}> element, but found <{}> instead",
            node.tag_name().name()
        ));
    }
    Ok(())
}

/// `build_matches`: the `<match>` children of `parent`, recursively.
pub fn build_matches(parent: roxmltree::Node<'_, '_>) -> Result<Vec<Match>, String> {
    let mut out = Vec::new();
    for node in parent.children().filter(|n| n.is_element()) {
        expect_element(node, "match")?;
        let (range_start, range_length) = offset(node)?;
        let ty = node
            .attribute("type")
            .ok_or("Missing 'type' attribute in <match>")?;
        let word_size = match ty {
            "host16" => 2,
            "host32" => 4,
            "big16" | "big32" | "little16" | "little32" | "string" | "byte" => 1,
            other => return Err(format!("Unknown magic type '{other}'")),
        };
        let (data, mask) = value_and_mask(ty, node.attribute("value"), node.attribute("mask"))?;
        let matches = build_matches(node)?;
        out.push(Match {
            range_start,
            range_length,
            word_size,
            data,
            mask,
            matches,
        });
    }
    Ok(out)
}

/// `match_offset`: `START` or `START:END` (a range of END - START + 1 positions).
fn offset(node: roxmltree::Node<'_, '_>) -> Result<(i64, i32), String> {
    let text = node
        .attribute("offset")
        .filter(|o| !o.is_empty())
        .ok_or("Missing 'offset' attribute")?;
    let (start, rest) =
        strtol(text).ok_or_else(|| format!("Number out-of-range ({text} should fit in 4 bytes)"))?;
    if let Some(end) = rest.strip_prefix(':').filter(|e| !e.is_empty() && start >= 0) {
        let (last, after) =
            strtol(end).ok_or_else(|| format!("Number out-of-range ({end} should fit in 8 bytes)"))?;
        // `int last = strtol(…)`: the C code keeps the low 32 bits.
        let last = last as i32 as i64;
        if after.is_empty() && last >= start {
            return Ok((start, (last - start + 1) as i32));
        }
        return Err("Invalid offset".to_owned());
    }
    if !rest.is_empty() {
        return Err("Invalid offset".to_owned());
    }
    Ok((start, 1))
}

/// `parse_value`: the bytes to compare and the mask, by the match's type.
fn value_and_mask(
    ty: &str,
    value: Option<&str>,
    mask: Option<&str>,
) -> Result<(Vec<u8>, Option<Vec<u8>>), String> {
    let value = value.filter(|v| !v.is_empty()).ok_or("No value specified")?;
    let int = |bytes: usize, big_endian: bool| int_value(bytes, value, mask, big_endian);
    if ty.contains("16") {
        int(2, !ty.starts_with('l'))
    } else if ty.contains("32") {
        int(4, !ty.starts_with('l'))
    } else if ty == "byte" {
        int(1, false)
    } else {
        let data = unescape(value);
        // An empty value (`\\` alone) takes no mask: the C code's guard returns none, silently.
        let mask = match mask {
            Some(m) if !data.is_empty() => Some(string_mask(m, data.len())?),
            _ => None,
        };
        Ok((data, mask))
    }
}

fn int_bytes(value: u64, bytes: usize, big_endian: bool) -> Vec<u8> {
    (0..bytes)
        .map(|b| {
            let shift = if big_endian { bytes - b - 1 } else { b } * 8;
            (value >> shift) as u8
        })
        .collect()
}

/// `parse_int_value`.
fn int_value(
    bytes: usize,
    text: &str,
    mask: Option<&str>,
    big_endian: bool,
) -> Result<(Vec<u8>, Option<Vec<u8>>), String> {
    let (value, rest) =
        strtoul(text).ok_or_else(|| format!("Number out-of-range ({text} should fit in {bytes} bytes)"))?;
    if !rest.is_empty() {
        return Err("Value is not a number".to_owned());
    }
    let data = int_bytes(value, bytes, big_endian);
    if (bytes == 1 && value & !0xff != 0) || (bytes == 2 && value & !0xffff != 0) {
        return Err(format!(
            "Number out-of-range ({value:x} should fit in {bytes} bytes)"
        ));
    }
    let mask = match mask {
        None => None,
        Some(m) => {
            let (mask, rest) =
                strtoul(m).ok_or_else(|| format!("Mask out-of-range ({m} should fit in {bytes} bytes)"))?;
            if !rest.is_empty() {
                return Err("Mask is not a number".to_owned());
            }
            Some(int_bytes(mask, bytes, big_endian))
        }
    };
    Ok((data, mask))
}

/// `parse_string_mask`: `0x` and hex digits, at most two per byte of the value.
fn string_mask(mask: &str, len: usize) -> Result<Vec<u8>, String> {
    let digits = mask
        .strip_prefix("0x")
        .ok_or("String masks must be in base 16 (starting with 0x)")?;
    let mut out = vec![0u8; len];
    for (i, c) in digits.chars().enumerate() {
        let v = c
            .to_digit(16)
            .filter(|_| c.is_ascii())
            .ok_or_else(|| format!("'{c}' is not a valid hex digit"))? as u8;
        if i >= len * 2 {
            return Err("Mask is longer than value".to_owned());
        }
        out[i >> 1] |= if i & 1 == 1 { v } else { v << 4 };
    }
    Ok(out)
}

fn hex_digit(c: Option<&u8>) -> Option<u8> {
    c.and_then(|c| (*c as char).to_digit(16)).map(|d| d as u8)
}

/// `getstr`: C escapes (`\n`, `\t`, octal `\NNN`, hex `\xNN`, `\c` for any other `c`); a
/// trailing lone backslash ends the string.
pub fn unescape(s: &str) -> Vec<u8> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        i += 1;
        if c != b'\\' {
            out.push(c);
            continue;
        }
        let Some(&e) = b.get(i) else {
            return out;
        };
        i += 1;
        match e {
            b'n' => out.push(b'\n'),
            b'r' => out.push(b'\r'),
            b'b' => out.push(8),
            b't' => out.push(b'\t'),
            b'f' => out.push(12),
            b'v' => out.push(11),
            b'0'..=b'7' => {
                let mut val = u32::from(e - b'0');
                for _ in 0..2 {
                    match b.get(i) {
                        Some(&d @ b'0'..=b'7') => {
                            val = (val << 3) | u32::from(d - b'0');
                            i += 1;
                        }
                        _ => break,
                    }
                }
                out.push(val as u8);
            }
            b'x' => match hex_digit(b.get(i)) {
                Some(d) => {
                    i += 1;
                    let mut val = d;
                    if let Some(d2) = hex_digit(b.get(i)) {
                        i += 1;
                        val = (val << 4) + d2;
                    }
                    out.push(val);
                }
                None => out.push(b'x'),
            },
            other => out.push(other),
        }
    }
    out
}

/// C's `strtoul(s, &end, 0)`: leading blanks, a sign (a negative value wraps), `0x`/`0` bases.
/// `None` on overflow (`ERANGE`); otherwise the value and what follows the number.
pub fn strtoul(s: &str) -> Option<(u64, &str)> {
    let (negative, magnitude, rest) = parse_c_integer(s)?;
    let value = if negative {
        magnitude.wrapping_neg()
    } else {
        magnitude
    };
    Some((value, rest))
}

/// C's `strtol(s, &end, 10)` (64-bit `long`): `None` on overflow.
pub fn strtol(s: &str) -> Option<(i64, &str)> {
    let (negative, body) = super::super::clib::sign(s);
    let digits = body.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 {
        return Some((0, s));
    }
    let mut v: i128 = 0;
    for d in body[..digits].bytes() {
        v = v * 10 + i128::from(d - b'0');
        if v > i128::from(i64::MAX) + 1 {
            return None;
        }
    }
    let v = if negative { -v } else { v };
    let v = i64::try_from(v).ok()?;
    Some((v, &body[digits..]))
}

/// The sign, magnitude and remainder of a C integer in base 0 (`None` on overflow).
fn parse_c_integer(s: &str) -> Option<(bool, u64, &str)> {
    let (negative, body) = super::super::clib::sign(s);
    let bytes = body.as_bytes();
    let hex_prefix =
        bytes.len() > 2 && bytes[0] == b'0' && (bytes[1] | 0x20) == b'x' && bytes[2].is_ascii_hexdigit();
    let (radix, start) = if hex_prefix {
        (16, 2)
    } else if bytes.first() == Some(&b'0') {
        (8, 0)
    } else {
        (10, 0)
    };
    let digits = body[start..].chars().take_while(|c| c.is_digit(radix)).count();
    if digits == 0 {
        // No number: strtoul returns 0 and leaves `end` at the start of the string.
        return Some((false, 0, s));
    }
    let mut v: u64 = 0;
    for c in body[start..start + digits].chars() {
        let d = u64::from(c.to_digit(radix).unwrap_or(0));
        v = v.checked_mul(u64::from(radix))?.checked_add(d)?;
    }
    Some((negative, v, &body[start + digits..]))
}

/// `build_tree_matches`.
pub fn build_tree_matches(parent: roxmltree::Node<'_, '_>) -> Result<Vec<TreeMatch>, String> {
    let mut out = Vec::new();
    for node in parent.children().filter(|n| n.is_element()) {
        expect_element(node, "treematch")?;
        let path = node
            .attribute("path")
            .ok_or("Missing 'path' attribute in <treematch>")?;
        let kind = match node.attribute("type") {
            None => 0,
            Some("file") => 1,
            Some("directory") => 2,
            Some("link") => 3,
            Some(_) => return Err("Invalid 'type' attribute in <treematch>".to_owned()),
        };
        let flag = |name: &str| node.attribute(name) == Some("true");
        let matches = build_tree_matches(node)?;
        out.push(TreeMatch {
            path: path.to_owned(),
            match_case: flag("match-case"),
            executable: flag("executable"),
            non_empty: flag("non-empty"),
            kind,
            mimetype: node.attribute("mimetype").map(str::to_owned),
            matches,
        });
    }
    Ok(out)
}

/// One rule of the `magic` file: `[PRIORITY:TYPE]`, then its matches.
pub fn write_magic(out: &mut Vec<u8>, priority: i32, mime: &str, matches: &[Match]) {
    out.extend_from_slice(format!("[{priority}:{mime}]\n").as_bytes());
    write_matches(out, matches, 0);
}

fn write_matches(out: &mut Vec<u8>, matches: &[Match], indent: usize) {
    for m in matches {
        if indent > 0 {
            out.extend_from_slice(indent.to_string().as_bytes());
        }
        out.extend_from_slice(format!(">{}=", m.range_start).as_bytes());
        // `write16` refuses lengths over 0xffff (writes nothing) but the data follows anyway.
        if let Ok(len) = u16::try_from(m.data.len()) {
            out.extend_from_slice(&len.to_be_bytes());
        }
        out.extend_from_slice(&m.data);
        if let Some(mask) = &m.mask {
            out.push(b'&');
            out.extend_from_slice(mask);
        }
        if m.word_size != 1 {
            out.extend_from_slice(format!("~{}", m.word_size).as_bytes());
        }
        if m.range_length != 1 {
            out.extend_from_slice(format!("+{}", m.range_length).as_bytes());
        }
        out.push(b'\n');
        write_matches(out, &m.matches, indent + 1);
    }
}

/// One rule of the `treemagic` file.
pub fn write_tree_magic(out: &mut String, priority: i32, mime: &str, matches: &[TreeMatch]) {
    out.push_str(&format!("[{priority}:{mime}]\n"));
    write_tree_matches(out, matches, 0);
}

fn write_tree_matches(out: &mut String, matches: &[TreeMatch], indent: usize) {
    for m in matches {
        if indent > 0 {
            out.push_str(&indent.to_string());
        }
        out.push_str(&format!(">\"{}\"=", m.path));
        out.push_str(match m.kind {
            1 => "file",
            2 => "directory",
            3 => "link",
            _ => "any",
        });
        for (set, name) in [
            (m.match_case, ",match-case"),
            (m.executable, ",executable"),
            (m.non_empty, ",non-empty"),
        ] {
            if set {
                out.push_str(name);
            }
        }
        if let Some(t) = &m.mimetype {
            out.push(',');
            out.push_str(t);
        }
        out.push('\n');
        write_tree_matches(out, &m.matches, indent + 1);
    }
}

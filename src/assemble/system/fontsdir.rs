//! X's font directory index as xfonts-utils' `mkfontdir` writes it (`mkfontscale -b -s -l`,
//! mkfontscale 1.1.3; what `update-fonts-dir` runs for each X font directory): `DIR/fonts.dir`
//! and, with `-e ENCDIR`, `DIR/encodings.dir`.
//!
//! - fonts.dir: the number of entries, then `FILE XLFD` lines, sorted by file name (bytes) and
//!   then by XLFD. A bitmap font's XLFD is its `FONT` property, read from the PCF properties
//!   table or the BDF header (gzip-compressed or not), lowercased; `-l` keeps it as it is (no
//!   re-encoded ISO 10646 entries). The entries of an existing `fonts.scale` come first (they win
//!   over a scanned font of the same XLFD); scalable fonts are not scanned (`-s`). Of two files
//!   naming one XLFD the one of higher priority wins: by suffix (`.otf`, `.ttf`, `.pcf`, `.gz`,
//!   `.Z`, `.bdf`), a regular file over a symbolic link.
//! - encodings.dir: the number of entries, then `NAME ENCDIR/FILE` for each encoding file of each
//!   `-e` directory (its `STARTENCODING` name and each `ALIAS` before the mapping), sorted by line.
//!   It is removed first and written only when there is an entry.
//!
//! Refused (the call is reported): a bitmap font without a `FONT` property (mkfontscale then asks
//! FreeType to make a name up), bitmap formats only FreeType reads (Windows FNT, bitmap-only
//! OpenType, `.Z`/`.bz2` compression), two files of the same priority naming one XLFD
//! (mkfontscale keeps the one the directory lists first, an order the image does not fix), and
//! options other than `-e`, or relative directories.

use std::collections::BTreeMap;
use std::io::Read;

use super::{Changes, Overlay, TreeView};

/// `mkfontdir [-e ENCDIR]… DIR…`, or `mkfontscale -b -s -l [-e ENCDIR]… DIR…`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FontsDirCall {
    pub encodings: Vec<String>,
    pub dirs: Vec<String>,
}

/// The calls this module reproduces, read as mkfontscale reads its arguments: options up to
/// the first word that is not one (or `--…`), `-l` switching the re-encoding of ISO 10646 fonts
/// off and on again, then directories. `mkfontdir` is `mkfontscale -b -s -l`. Reproduced: bitmap
/// fonts only (`-b -s`), not re-encoded (`-l` an odd number of times), with `-e` directories; the
/// other options, relative paths and directories are refused.
pub fn parse_call(name: &str, args: &[String]) -> Result<FontsDirCall, String> {
    if !matches!(name, "mkfontdir" | "mkfontscale") {
        return Err(format!("{name} is not mkfontdir"));
    }
    let implied: &[&str] = if name == "mkfontdir" {
        &["-b", "-s", "-l"]
    } else {
        &[]
    };
    let words: Vec<&str> = implied
        .iter()
        .copied()
        .chain(args.iter().map(String::as_str))
        .collect();
    let mut call = FontsDirCall {
        encodings: Vec::new(),
        dirs: Vec::new(),
    };
    let (mut bitmaps, mut scalable, mut reencode) = (false, true, true);
    let mut at = 0;
    while let Some(word) = words.get(at) {
        if !word.starts_with('-') {
            break;
        }
        at += 1;
        match *word {
            w if w.starts_with("--") => break,
            "-b" => bitmaps = true,
            "-s" => scalable = false,
            "-l" => reencode = !reencode,
            "-e" => {
                let dir = words.get(at).ok_or("mkfontdir -e without a directory")?;
                at += 1;
                if !dir.starts_with('/') {
                    return Err(format!("mkfontdir -e with the relative directory {dir}"));
                }
                // mkfontscale drops one trailing `/`.
                let dir = match dir.strip_suffix('/') {
                    Some(d) if dir.len() > 1 => d,
                    _ => dir,
                };
                call.encodings.push(dir.to_owned());
            }
            o => return Err(format!("{name} option {o} is not reproduced")),
        }
    }
    for dir in &words[at..] {
        if !dir.starts_with('/') {
            return Err(format!("mkfontdir with the relative directory {dir}"));
        }
        call.dirs.push(dir.to_string());
    }
    if !bitmaps || scalable {
        return Err(format!(
            "{name} other than mkfontdir's form (-b -s) indexes scalable fonts, which takes FreeType"
        ));
    }
    if reencode {
        return Err(format!(
            "{name} re-encoding ISO 10646 fonts (without -l) takes FreeType's view of their glyphs"
        ));
    }
    if call.dirs.is_empty() {
        return Err(format!("{name} without a directory indexes the current one"));
    }
    Ok(call)
}

/// Writes each directory's fonts.dir and encodings.dir, as mkfontdir does. `Err` names the file
/// and what mkfontdir would need that is not reproduced; nothing is written then.
pub fn apply(overlay: &mut Overlay<'_>, call: &FontsDirCall, umask: u32) -> Result<(), String> {
    let encodings = encodings_dir(overlay, &call.encodings)?;
    // Every directory's index first: a refusal leaves nothing written.
    let mut indexes = Vec::new();
    for dir in &call.dirs {
        let real = super::resolve(overlay, &super::tree_path(dir))
            .filter(|r| super::is_dir(overlay, r))
            .ok_or_else(|| format!("mkfontdir: {dir} is not a directory"))?;
        let fonts = fonts_dir(overlay, &real, dir)?;
        if super::resolve(overlay, &super::child_path(&real, "fonts.dir"))
            .is_some_and(|p| super::is_dir(overlay, &p))
        {
            return Err(format!("mkfontdir: {dir}/fonts.dir is a directory"));
        }
        indexes.push((real, fonts));
    }
    for (real, fonts) in indexes {
        // fonts.dir is opened for writing (through a link; an existing file keeps its mode and
        // owner); encodings.dir is removed, then made anew where there are encodings.
        super::write_through(
            overlay,
            &format!("/{}", super::child_path(&real, "fonts.dir")),
            &fonts,
            false,
            umask,
        )?;
        let encodings_path = super::child_path(&real, "encodings.dir");
        let mut changes = Changes::default();
        if overlay.entry(&encodings_path).is_some() {
            changes.removed.push(encodings_path.clone());
        }
        overlay.apply(changes);
        if let Some(text) = &encodings {
            let mut changes = Changes::default();
            changes.file(&encodings_path, 0o666 & !umask, text.clone());
            overlay.apply(changes);
        }
    }
    Ok(())
}

/// At most this much of a font or encoding file is read (the largest packaged PCF font is a few
/// MiB once decompressed): more is refused rather than held in memory.
const MAX_FILE: u64 = 64 << 20;

/// A file's bytes as zlib's `gzopen` reads them: a gzip stream (of one member or more)
/// decompressed, anything else as it is.
fn read_font_file(tree: &dyn TreeView, path: &str) -> Result<Option<Vec<u8>>, String> {
    let Some(bytes) = super::read_file(tree, path).map_err(|e| e.to_string())? else {
        return Ok(None);
    };
    if !bytes.starts_with(&[0x1f, 0x8b]) {
        return Ok(Some(bytes));
    }
    let mut out = Vec::new();
    flate2::read::MultiGzDecoder::new(bytes.as_slice())
        .take(MAX_FILE + 1)
        .read_to_end(&mut out)
        .map_err(|e| format!("/{path}: not a gzip stream mkfontdir can read ({e})"))?;
    if out.len() as u64 > MAX_FILE {
        return Err(format!("/{path}: more than {MAX_FILE} bytes once decompressed"));
    }
    Ok(Some(out))
}

/// The text of encodings.dir for the `-e` directories; `None` when there is no encoding.
fn encodings_dir(tree: &dyn TreeView, dirs: &[String]) -> Result<Option<Vec<u8>>, String> {
    let mut lines: Vec<Vec<u8>> = Vec::new();
    for dir in dirs {
        let (real, names) = super::children(tree, &super::tree_path(dir))
            .ok_or_else(|| format!("mkfontdir -e {dir}: not a directory"))?;
        for name in names {
            let path = super::child_path(&real, &name);
            if !super::is_file(tree, &path) {
                continue;
            }
            let Some(bytes) = read_font_file(tree, &path)? else {
                continue;
            };
            for encoding in encoding_names(&bytes) {
                let mut line = encoding;
                line.push(b' ');
                line.extend_from_slice(format!("{dir}/{name}").as_bytes());
                lines.push(line);
            }
        }
    }
    if lines.is_empty() {
        return Ok(None);
    }
    lines.sort();
    let mut out = format!("{}\n", lines.len()).into_bytes();
    for line in lines {
        out.extend_from_slice(&line);
        out.push(b'\n');
    }
    Ok(Some(out))
}

/// libfontenc's reading of an encoding file's header (`FontEncIdentify`): the first line that is
/// not blank or a comment must be `STARTENCODING NAME`, and each `ALIAS NAME` line before a
/// `STARTMAPPING` line (or `ENDENCODING`) adds a name, 20 at most. Read with libfontenc's own
/// tokenizer, quirks included (a token it cannot read ends a line without skipping the rest of
/// it; a NUL is the end of the file where a token starts). Not an encoding file: no name.
fn encoding_names(bytes: &[u8]) -> Vec<Vec<u8>> {
    let mut reader = EncodingReader {
        bytes,
        at: 0,
        keyword: Vec::new(),
    };
    if reader.line() != HeaderLine::Start {
        return Vec::new();
    }
    let mut names = vec![reader.keyword.clone()];
    loop {
        match reader.line() {
            HeaderLine::End | HeaderLine::Mapping => break,
            HeaderLine::Alias if names.len() <= 20 => names.push(reader.keyword.clone()),
            _ => {}
        }
    }
    names
}

#[derive(Debug, PartialEq, Eq)]
enum HeaderLine {
    Start,
    Alias,
    Mapping,
    /// `ENDENCODING`, or the end of the file.
    End,
    Other,
}

#[derive(Debug, PartialEq, Eq)]
enum Token {
    End,
    Error,
    EndOfLine,
    Number,
    Keyword,
}

/// libfontenc's `encparse.c` reader, character by character (`-1` the end of the file).
struct EncodingReader<'a> {
    bytes: &'a [u8],
    at: usize,
    /// The last keyword read (at most 100 characters).
    keyword: Vec<u8>,
}

impl EncodingReader<'_> {
    fn getc(&mut self) -> i32 {
        match self.bytes.get(self.at) {
            Some(b) => {
                self.at += 1;
                i32::from(*b)
            }
            None => -1,
        }
    }

    fn skip_line(&mut self, mut c: i32) {
        if c == 0 {
            c = self.getc();
        }
        while c > 0 && c != i32::from(b'\n') {
            c = self.getc();
        }
    }

    /// Whether the line ends here (a blank before its end or comment makes it malformed).
    fn line_ends(&mut self, mut c: i32) -> bool {
        if c == 0 {
            c = self.getc();
        }
        loop {
            if c <= 0 || c == i32::from(b'\n') {
                return true;
            }
            if c == i32::from(b'#') {
                self.skip_line(c);
                return true;
            }
            if c == i32::from(b' ') || c == i32::from(b'\t') {
                self.skip_line(c);
                return false;
            }
            c = self.getc();
        }
    }

    /// The next token from `c` (`c <= 0`: read one first), and the character after it.
    fn token(&mut self, mut c: i32) -> (Token, i32) {
        let is = |c: i32, set: &[u8]| u8::try_from(c).is_ok_and(|b| set.contains(&b));
        if c <= 0 {
            c = self.getc();
        }
        if c <= 0 {
            return (Token::End, c);
        }
        while is(c, b" \t") {
            c = self.getc();
        }
        if c == i32::from(b'\n') {
            return (Token::EndOfLine, c);
        }
        if c == i32::from(b'#') {
            self.skip_line(c);
            return (Token::EndOfLine, c);
        }
        if is(c, b"0123456789") {
            // A decimal, octal (`0…`) or hexadecimal (`0x…`) number; its value is not needed.
            if c == i32::from(b'0') {
                c = self.getc();
                if is(c, b"xX") {
                    c = self.getc();
                }
            }
            while is(c, b"0123456789abcdefABCDEF") {
                c = self.getc();
            }
            return (Token::Number, c);
        }
        let starts_keyword = u8::try_from(c).is_ok_and(|b| b.is_ascii_alphabetic() || b"/_-.".contains(&b));
        if !starts_keyword {
            return (Token::Error, c);
        }
        self.keyword.clear();
        self.keyword.push(c as u8);
        while self.keyword.len() < 100 {
            c = self.getc();
            if c <= 32 || c > 126 || c == i32::from(b'#') {
                break;
            }
            self.keyword.push(c as u8);
        }
        (Token::Keyword, c)
    }

    /// What the next line is, as libfontenc's `parseEncodingLine` tells it.
    fn line(&mut self) -> HeaderLine {
        let mut c = self.getc();
        if c <= 0 {
            return HeaderLine::End;
        }
        loop {
            let (token, next) = self.token(c);
            c = next;
            match token {
                Token::End => return HeaderLine::End,
                Token::EndOfLine => c = self.getc(),
                Token::Error => return HeaderLine::Other,
                // A code, a range, or a code and a name: mapping lines, none of the header's.
                Token::Number => {
                    let (token, next) = self.token(c);
                    match token {
                        Token::Number => {
                            let (token, next) = self.token(next);
                            if !matches!(token, Token::Number | Token::EndOfLine) {
                                self.skip_line(next);
                            }
                        }
                        Token::Keyword => {
                            self.line_ends(next);
                        }
                        _ => self.skip_line(next),
                    }
                    return HeaderLine::Other;
                }
                Token::Keyword => return self.keyword_line(c),
            }
        }
    }

    fn keyword_line(&mut self, c: i32) -> HeaderLine {
        let keyword = self.keyword.to_ascii_lowercase();
        match keyword.as_slice() {
            b"startencoding" | b"alias" => {
                let (token, next) = self.token(c);
                if token != Token::Keyword {
                    self.skip_line(next);
                    return HeaderLine::Other;
                }
                match (self.line_ends(next), keyword.as_slice()) {
                    (true, b"alias") => HeaderLine::Alias,
                    (true, _) => HeaderLine::Start,
                    (false, _) => HeaderLine::Other,
                }
            }
            b"size" | b"firstindex" => {
                let (token, next) = self.token(c);
                if token == Token::Number {
                    let (token, next) = self.token(next);
                    if !matches!(token, Token::Number | Token::EndOfLine) {
                        self.skip_line(next);
                    }
                } else {
                    self.skip_line(next);
                }
                HeaderLine::Other
            }
            b"startmapping" => {
                let (token, mut next) = self.token(c);
                if token != Token::Keyword {
                    self.skip_line(next);
                    return HeaderLine::Other;
                }
                for _ in 0..2 {
                    let (token, after) = self.token(next);
                    next = after;
                    match token {
                        Token::EndOfLine => return HeaderLine::Mapping,
                        Token::Number => {}
                        _ => {
                            self.skip_line(next);
                            return HeaderLine::Other;
                        }
                    }
                }
                if self.line_ends(next) {
                    HeaderLine::Mapping
                } else {
                    HeaderLine::Other
                }
            }
            b"undefine" => {
                let (token, next) = self.token(c);
                if token != Token::Number {
                    self.skip_line(next);
                    return HeaderLine::Other;
                }
                let (token, next) = self.token(next);
                match token {
                    Token::EndOfLine => {}
                    Token::Number => {
                        self.line_ends(next);
                    }
                    _ => self.skip_line(next),
                }
                HeaderLine::Other
            }
            b"endencoding" => {
                if self.line_ends(c) {
                    HeaderLine::End
                } else {
                    HeaderLine::Other
                }
            }
            b"endmapping" => {
                self.line_ends(c);
                HeaderLine::Other
            }
            _ => {
                self.skip_line(c);
                HeaderLine::Other
            }
        }
    }
}

/// What a scanned file is, as mkfontdir's form sees it.
enum Font {
    /// A bitmap font's XLFD (its `FONT` property).
    Named(Vec<u8>),
    /// A scalable font (`-s`: not indexed) or not a font: nothing.
    Skipped,
}

/// The text of fonts.dir for the directory at tree path `real` (named `dir` in errors).
fn fonts_dir(tree: &dyn TreeView, real: &str, dir: &str) -> Result<Vec<u8>, String> {
    let mut table = FontTable::default();
    let scale = super::child_path(real, "fonts.scale");
    if super::is_file(tree, &scale)
        && let Some(bytes) = super::read_file(tree, &scale).map_err(|e| e.to_string())?
    {
        for (file, xlfd) in fonts_scale_entries(&bytes) {
            table.put(&xlfd, file, FONTS_SCALE_PRIORITY);
        }
    }
    // The scanned fonts, by the slot they would take: which of several wins may depend on the
    // order the directory lists them in.
    let mut scanned: BTreeMap<(usize, Vec<u8>), Vec<Candidate>> = BTreeMap::new();
    let (_, names) =
        super::children(tree, real).ok_or_else(|| format!("mkfontdir: {dir} is not a directory"))?;
    for name in names {
        // The fonts.dir being written is empty by the time the directory is read.
        if name == "fonts.dir" {
            continue;
        }
        let path = super::child_path(real, &name);
        let is_link = tree
            .entry(&path)
            .is_some_and(|e| matches!(e.kind, crate::entry::EntryKind::Symlink { .. }));
        if !super::is_file(tree, &path) {
            continue;
        }
        let Some(bytes) = read_font_file(tree, &path)? else {
            continue;
        };
        let Font::Named(xlfd) = identify(&bytes).map_err(|why| format!("{dir}/{name}: {why}"))? else {
            continue;
        };
        let priority = (file_priority(&name) << 1) + u32::from(!is_link);
        scanned
            .entry((bucket(&xlfd), xlfd.to_ascii_lowercase()))
            .or_default()
            .push(Candidate {
                file: name.into_bytes(),
                priority,
            });
    }
    for ((slot, key), candidates) in scanned {
        // Taken by fonts.scale, whose priority no scanned font reaches.
        if table.buckets[slot].iter().any(|s| s.key == key) {
            continue;
        }
        let winner = order_free_winner(&candidates).ok_or_else(|| {
            let files: Vec<String> = candidates
                .iter()
                .map(|c| format!("{dir}/{}", String::from_utf8_lossy(&c.file)))
                .collect();
            format!(
                "{} name {}: which mkfontdir keeps depends on the order the directory lists them in, \
                 which the image does not fix",
                files.join(" and "),
                String::from_utf8_lossy(&key)
            )
        })?;
        table.buckets[slot].push(Slot {
            key,
            file: winner.file.clone(),
            priority: winner.priority,
        });
    }
    let mut entries: Vec<(Vec<u8>, Vec<u8>)> = table
        .buckets
        .into_iter()
        .flatten()
        .map(|s| (s.file, s.key))
        .collect();
    entries.sort();
    let mut out = format!("{}\n", entries.len()).into_bytes();
    for (file, xlfd) in entries {
        out.extend_from_slice(&file);
        out.push(b' ');
        out.extend_from_slice(&xlfd);
        out.push(b'\n');
    }
    Ok(out)
}

/// mkfontscale's table of XLFDs: 1024 buckets chosen by a hash of the name as given, names
/// stored lowercased and matched whatever their case. Two spellings of one name in different
/// buckets are two entries (fonts.scale's lowercased name beside a font's own `FONT`).
struct FontTable {
    buckets: Vec<Vec<Slot>>,
}

/// A name in the table: the lowercased XLFD, the file, the priority it was first put with.
#[derive(Clone)]
struct Slot {
    key: Vec<u8>,
    file: Vec<u8>,
    priority: u32,
}

/// A scanned file naming an XLFD, with its priority.
#[derive(Debug, PartialEq, Eq)]
struct Candidate {
    file: Vec<u8>,
    priority: u32,
}

impl Default for FontTable {
    fn default() -> Self {
        FontTable {
            buckets: vec![Vec::new(); BUCKETS],
        }
    }
}

const BUCKETS: usize = 1 << 10;

/// mkfontscale's bucket for a name: a shift-and-add hash of its bytes up to a NUL.
fn bucket(key: &[u8]) -> usize {
    let mut u: u32 = 0;
    for b in key.iter().take_while(|b| **b != 0) {
        u = (u << 5).wrapping_add(u >> 5).wrapping_add(u32::from(*b));
    }
    u as usize & (BUCKETS - 1)
}

impl FontTable {
    /// mkfontscale's `putHash`: a name already there takes the new file only for a higher
    /// priority than the one it was first put with (which it keeps).
    fn put(&mut self, key: &[u8], file: Vec<u8>, priority: u32) {
        let lower = key.to_ascii_lowercase();
        let slot = &mut self.buckets[bucket(key)];
        match slot.iter_mut().find(|s| s.key == lower) {
            Some(entry) if priority > entry.priority => entry.file = file,
            Some(_) => {}
            None => slot.push(Slot {
                key: lower,
                file,
                priority,
            }),
        }
    }
}

/// Of the files naming one XLFD in one bucket, the one mkfontscale keeps whatever the order it
/// reads them in: the first read stays unless a later one has a higher priority than it, and the
/// last such one wins. That is the same file in every order only when there is one file, or one
/// of highest priority with every other file of one lower priority.
fn order_free_winner(candidates: &[Candidate]) -> Option<&Candidate> {
    let top = candidates.iter().map(|c| c.priority).max()?;
    let mut best = candidates.iter().filter(|c| c.priority == top);
    let winner = best.next()?;
    if best.next().is_some() {
        return None;
    }
    let mut rest = candidates
        .iter()
        .filter(|c| c.priority != top)
        .map(|c| c.priority);
    match rest.next() {
        Some(p) if rest.any(|q| q != p) => None,
        _ => Some(winner),
    }
}

/// An entry of fonts.scale wins over any scanned font.
const FONTS_SCALE_PRIORITY: u32 = 100;

/// mkfontscale's preference among files naming one XLFD, by suffix (doubled, plus one for a
/// regular file, by the caller).
fn file_priority(name: &str) -> u32 {
    let ends = |suffixes: &[&str]| suffixes.iter().any(|s| name.ends_with(s));
    if name.len() < 4 {
        0
    } else if ends(&[".otf", ".OTF"]) {
        6
    } else if ends(&[".ttf", ".TTF"]) {
        5
    } else if ends(&[".pcf", ".PCF"]) {
        4
    } else if ends(&[".gz"]) {
        3
    } else if ends(&[".Z"]) {
        2
    } else if ends(&[".bdf", ".BDF"]) {
        1
    } else {
        0
    }
}

/// fonts.scale's entries as mkfontscale reads them back (`fscanf`): a count, then that many
/// `FILE XLFD` lines (the file a run of non-blanks, the XLFD the rest of the line after the blanks
/// that follow it); reading stops at the first line not of that form.
fn fonts_scale_entries(bytes: &[u8]) -> Vec<(Vec<u8>, Vec<u8>)> {
    let mut rest = bytes;
    let skip_blanks = |s: &mut &[u8]| {
        while let [c, tail @ ..] = *s
            && c.is_ascii_whitespace()
        {
            *s = tail;
        }
    };
    skip_blanks(&mut rest);
    let digits = rest
        .iter()
        .enumerate()
        .take_while(|(i, c)| c.is_ascii_digit() || (*i == 0 && (**c == b'+' || **c == b'-')))
        .count();
    let Some(count) = std::str::from_utf8(&rest[..digits])
        .ok()
        .and_then(|d| d.parse::<i64>().ok())
    else {
        return Vec::new();
    };
    rest = &rest[digits..];
    let mut out = Vec::new();
    for _ in 0..count.max(0) {
        skip_blanks(&mut rest);
        let file_len = rest
            .iter()
            .take_while(|c| !c.is_ascii_whitespace())
            .count()
            .min(1024);
        if file_len == 0 {
            break;
        }
        let file = rest[..file_len].to_vec();
        rest = &rest[file_len..];
        skip_blanks(&mut rest);
        let xlfd_len = rest.iter().take_while(|c| **c != b'\n').count().min(1024);
        if xlfd_len == 0 {
            break;
        }
        out.push((file, rest[..xlfd_len].to_vec()));
        rest = &rest[xlfd_len..];
    }
    out
}

/// A scanned file's XLFD, or why mkfontdir's form is not reproduced for it.
fn identify(bytes: &[u8]) -> Result<Font, String> {
    if bytes.starts_with(b"\x01fcp") {
        return pcf_font_name(bytes).map(Font::Named).ok_or_else(|| {
            "a PCF font without a FONT property mkfontdir reads (FreeType would name it)".to_owned()
        });
    }
    if bytes.starts_with(b"STARTFONT") {
        return bdf_font_name(bytes).map(Font::Named).ok_or_else(|| {
            "a BDF font without a FONT line mkfontdir reads (FreeType would name it)".to_owned()
        });
    }
    // Compressed in a form only FreeType opens.
    if bytes.starts_with(&[0x1f, 0x9d]) || bytes.starts_with(b"BZh") {
        return Err("compressed with compress or bzip2, which only FreeType reads".into());
    }
    // Windows FNT/FON: bitmap fonts FreeType names.
    if bytes.starts_with(b"MZ") {
        return Err("a Windows bitmap font (FreeType would name it)".into());
    }
    if let Some(scalable) = sfnt_is_scalable(bytes) {
        return if scalable {
            Ok(Font::Skipped)
        } else {
            Err("a bitmap-only OpenType font (FreeType would name it)".into())
        };
    }
    // Type 1 (`.pfb`, `.pfa`), Type 42, CID and other PostScript fonts, WOFF: scalable; anything
    // else is not a font FreeType opens.
    Ok(Font::Skipped)
}

/// For an OpenType/TrueType file (or collection): whether FreeType takes every font in it as
/// scalable, as mkfontscale asks (outlines, `glyf`, `CFF ` or `CFF2`, and not a TrueType font
/// with bitmap strikes whose `maxp` says it has no contours); `None` when it is not one.
fn sfnt_is_scalable(bytes: &[u8]) -> Option<bool> {
    let be32 = |at: usize| {
        bytes
            .get(at..at + 4)
            .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    };
    let be16 = |at: usize| bytes.get(at..at + 2).map(|b| u16::from_be_bytes([b[0], b[1]]));
    let scalable = |at: usize| -> bool {
        let Some(count) = be16(at + 4) else { return false };
        let table = |tag: &[u8; 4]| {
            (0..usize::from(count)).find_map(|i| {
                let record = at + 12 + 16 * i;
                (bytes.get(record..record + 4)? == tag)
                    .then(|| be32(record + 8))
                    .flatten()
            })
        };
        let cff = table(b"CFF ").is_some() || table(b"CFF2").is_some();
        if cff {
            return true;
        }
        if table(b"glyf").is_none() {
            return false;
        }
        let strikes = [b"EBLC", b"bloc", b"CBLC", b"sbix"]
            .iter()
            .any(|t| table(t).is_some());
        // maxp version 1.0's maxContours, at offset 8.
        let no_contours = table(b"maxp").is_some_and(|maxp| {
            be32(maxp as usize) == Some(0x0001_0000) && be16(maxp as usize + 8) == Some(0)
        });
        !(strikes && no_contours)
    };
    match bytes.get(..4)? {
        b"\0\x01\0\0" | b"OTTO" | b"true" | b"typ1" => Some(scalable(0)),
        b"ttcf" => {
            let count = be32(8)? as usize;
            Some(
                count > 0
                    && (0..count.min(4096)).all(|i| be32(12 + 4 * i).is_some_and(|at| scalable(at as usize))),
            )
        }
        _ => None,
    }
}

/// The `FONT` property of a PCF font, as mkfontscale reads it: the first table of type
/// PCF_PROPERTIES, in the byte order its format says.
fn pcf_font_name(d: &[u8]) -> Option<Vec<u8>> {
    let le32 = |at: usize| {
        d.get(at..at + 4)
            .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    };
    let count = le32(4)? as i32;
    if count <= 0 {
        return None;
    }
    // No more entries than the file holds (a corrupt count is not read two thousand million times).
    let entries = (count as usize).min(d.len().saturating_sub(8) / 16);
    let properties = (0..entries).find_map(|i| {
        let at = 8 + 16 * i;
        (le32(at)? == 1).then(|| le32(at + 12)).flatten()
    })? as usize;
    let format = le32(properties)?;
    if format & 0xFFFF_FF00 != 0 {
        return None;
    }
    let big_endian = format & 4 != 0;
    let u32_at = |at: usize| {
        d.get(at..at + 4).map(|b| {
            let b = [b[0], b[1], b[2], b[3]];
            if big_endian {
                u32::from_be_bytes(b)
            } else {
                u32::from_le_bytes(b)
            }
        })
    };
    let nprops = u32_at(properties + 4)? as i32;
    if !(1..=1000).contains(&nprops) {
        return None;
    }
    let nprops = nprops as usize;
    let props_at = properties + 8;
    let mut strings_at = props_at + 9 * nprops;
    if nprops & 3 != 0 {
        strings_at += 4 - (nprops & 3);
    }
    let size = u32_at(strings_at)? as i32;
    if !(0..=100_000).contains(&size) {
        return None;
    }
    let size = size as usize;
    let strings = d.get(strings_at + 4..strings_at + 4 + size)?;
    // A string ends at its NUL; one running off the table is refused (C would read past it).
    let c_string = |at: usize| {
        let s = &strings[at..];
        s.iter().position(|b| *b == 0).map(|end| s[..end].to_vec())
    };
    // The first string property named FONT (mkfontscale's bounds: the name well inside the
    // strings, the value inside them), then its value.
    let value = (0..nprops).find_map(|i| {
        let at = props_at + 9 * i;
        let name = u32_at(at)? as usize;
        let is_string = *d.get(at + 4)? != 0;
        let value = u32_at(at + 5)? as usize;
        let fits = name < size.saturating_sub(4) && value < size;
        (is_string && fits && c_string(name).as_deref() == Some(b"FONT")).then_some(value)
    })?;
    c_string(value)
}

/// The `FONT` line of a BDF font's header (before `CHARS`): every header line must start with an
/// upper-case keyword, as mkfontscale reads it.
fn bdf_font_name(d: &[u8]) -> Option<Vec<u8>> {
    // Lines with their newline: a line the file ends in without one fails mkfontscale's reading.
    let mut lines = d.split_inclusive(|b| *b == b'\n');
    let first = lines.next()?;
    if !first.starts_with(b"STARTFONT ") {
        return None;
    }
    for line in lines {
        let line = line.strip_suffix(b"\n")?;
        // Keywords of upper-case letters, at most 19 (ident.c's buffer).
        let keyword_len = line.iter().take_while(|c| c.is_ascii_uppercase()).count();
        if keyword_len == 0 || keyword_len > 19 {
            return None;
        }
        let (keyword, rest) = line.split_at(keyword_len);
        if !rest.is_empty() && rest[0] != b' ' {
            return None;
        }
        match keyword {
            b"FONT" => {
                let value: &[u8] = rest.strip_prefix(b" ")?;
                let value = &value[value.iter().take_while(|c| **c == b' ').count()..];
                if value.is_empty() || value.len() >= 1000 {
                    return None;
                }
                // The name as C reads it: up to a NUL.
                return Some(value[..value.iter().position(|b| *b == 0).unwrap_or(value.len())].to_vec());
            }
            b"CHARS" => return None,
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests;

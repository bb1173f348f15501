//! POSIX access control lists as Linux stores them: the `system.posix_acl_access` and
//! `system.posix_acl_default` extended attributes (what `systemd-tmpfiles`' `a`/`a+` lines
//! and `setfacl` leave on a path), and how an ACL given as text is merged into a path's, the
//! way systemd's tmpfiles does it (`src/shared/acl-util.c`: replace or add entries, fill in the
//! base entries from the mode, compute the mask where named entries need one).
//!
//! Hand-written rather than through libacl: the image is a tree in memory, never the host's
//! file system, and the format is a version word and fixed-size entries (`linux/posix_acl_xattr.h`).

use crate::entry::Entry;

/// The extended attribute of the access ACL.
pub const ACCESS: &str = "system.posix_acl_access";
/// The extended attribute of a directory's default ACL (what new entries in it inherit).
pub const DEFAULT: &str = "system.posix_acl_default";

/// `POSIX_ACL_XATTR_VERSION`.
const VERSION: u32 = 2;
/// The id field of the entries that name no user or group.
const UNDEFINED_ID: u32 = u32::MAX;

/// An entry's tag, with the kernel's values; their order is the order entries are stored in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Tag {
    UserObj = 0x01,
    User = 0x02,
    GroupObj = 0x04,
    Group = 0x08,
    Mask = 0x10,
    Other = 0x20,
}

impl Tag {
    fn from_raw(raw: u16) -> Option<Tag> {
        Some(match raw {
            0x01 => Tag::UserObj,
            0x02 => Tag::User,
            0x04 => Tag::GroupObj,
            0x08 => Tag::Group,
            0x10 => Tag::Mask,
            0x20 => Tag::Other,
            _ => return None,
        })
    }

    fn named(self) -> bool {
        matches!(self, Tag::User | Tag::Group)
    }
}

/// One entry: its tag, the user or group it names (named entries only), its `rwx` bits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AclEntry {
    pub tag: Tag,
    pub id: Option<u32>,
    pub perms: u16,
}

/// An ACL given as text, split as tmpfiles splits it: access entries, and default ones (`d:`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Spec {
    pub access: Vec<AclEntry>,
    pub default: Vec<AclEntry>,
}

/// Parses `ENTRY[,ENTRY…]`, each `[d:|default:]TAG:[QUALIFIER]:PERMS` (`group:adm:r-x`,
/// `d:group::r-x`, `u:www-data:rwx`, `m::rx`); `id` resolves a user (`true`) or group name.
pub fn parse(text: &str, id: &dyn Fn(bool, &str) -> Result<u32, String>) -> Result<Spec, String> {
    let mut spec = Spec::default();
    for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (default, entry) = match part.strip_prefix("default:").or_else(|| part.strip_prefix("d:")) {
            Some(rest) => (true, rest),
            None => (false, part),
        };
        let fields: Vec<&str> = entry.split(':').collect();
        let tag = match fields[0] {
            "u" | "user" => Tag::User,
            "g" | "group" => Tag::Group,
            "m" | "mask" => Tag::Mask,
            "o" | "other" => Tag::Other,
            other => return Err(format!("ACL entry `{part}`: unknown tag `{other}`")),
        };
        let (qualifier, perms) = match fields.as_slice() {
            [_, qualifier, perms] => (*qualifier, *perms),
            // Mask and other take no qualifier: `other:r-x` as well as `other::r-x`.
            [_, perms] if matches!(tag, Tag::Mask | Tag::Other) => ("", *perms),
            _ => return Err(format!("ACL entry `{part}` is not TAG:QUALIFIER:PERMS")),
        };
        let (tag, id) = match (tag, qualifier) {
            (Tag::User, "") => (Tag::UserObj, None),
            (Tag::Group, "") => (Tag::GroupObj, None),
            (Tag::User | Tag::Group, name) => (tag, Some(id(tag == Tag::User, name)?)),
            (_, "") => (tag, None),
            (_, q) => return Err(format!("ACL entry `{part}`: {tag:?} takes no qualifier `{q}`")),
        };
        if perms.is_empty() {
            return Err(format!("ACL entry `{part}` has no permissions"));
        }
        let mut bits = 0u16;
        for c in perms.chars() {
            bits |= match c {
                'r' => 4,
                'w' => 2,
                'x' => 1,
                '-' => 0,
                _ => return Err(format!("ACL entry `{part}`: permissions `{perms}` are not rwx")),
            };
        }
        let list = if default {
            &mut spec.default
        } else {
            &mut spec.access
        };
        list.push(AclEntry { tag, id, perms: bits });
    }
    Ok(spec)
}

/// The ACL a mode stands for: its owner's, group's and others' bits.
pub fn from_mode(mode: u32) -> Vec<AclEntry> {
    let bits = |shift: u32| ((mode >> shift) & 7) as u16;
    vec![
        AclEntry {
            tag: Tag::UserObj,
            id: None,
            perms: bits(6),
        },
        AclEntry {
            tag: Tag::GroupObj,
            id: None,
            perms: bits(3),
        },
        AclEntry {
            tag: Tag::Other,
            id: None,
            perms: bits(0),
        },
    ]
}

/// Merges `new` into `old` as tmpfiles' `a+` does: an entry of the same tag (and user or group)
/// takes the new permissions, the others are added.
pub fn merge(old: &[AclEntry], new: &[AclEntry]) -> Vec<AclEntry> {
    let mut merged = old.to_vec();
    for n in new {
        match merged.iter_mut().find(|o| o.tag == n.tag && o.id == n.id) {
            Some(o) => o.perms = n.perms,
            None => merged.push(*n),
        }
    }
    merged
}

/// Adds the mask where named entries need one and there is none (`calc_acl_mask_if_needed`):
/// the union of the group class's permissions.
pub fn add_mask_if_needed(acl: &mut Vec<AclEntry>) {
    if acl.iter().any(|e| e.tag == Tag::Mask) || !acl.iter().any(|e| e.tag.named()) {
        return;
    }
    let perms = acl
        .iter()
        .filter(|e| matches!(e.tag, Tag::GroupObj | Tag::User | Tag::Group))
        .fold(0, |bits, e| bits | e.perms);
    acl.push(AclEntry {
        tag: Tag::Mask,
        id: None,
        perms,
    });
}

/// Adds the owner's, group's and others' entries the ACL lacks, from the path's mode
/// (`add_base_acls_if_needed`).
pub fn add_base_if_needed(acl: &mut Vec<AclEntry>, mode: u32) {
    for base in from_mode(mode) {
        if !acl.iter().any(|e| e.tag == base.tag) {
            acl.push(base);
        }
    }
}

/// Whether the kernel accepts the ACL: one of each base entry, at most one mask (required with
/// named entries), one entry per user or group.
pub fn check(acl: &[AclEntry]) -> Result<(), String> {
    for tag in [Tag::UserObj, Tag::GroupObj, Tag::Other] {
        if acl.iter().filter(|e| e.tag == tag).count() != 1 {
            return Err(format!("the ACL needs exactly one {tag:?} entry"));
        }
    }
    let masks = acl.iter().filter(|e| e.tag == Tag::Mask).count();
    if masks > 1 || (masks == 0 && acl.iter().any(|e| e.tag.named())) {
        return Err("named entries need one mask entry".into());
    }
    let mut named: Vec<(Tag, Option<u32>)> = acl
        .iter()
        .filter(|e| e.tag.named())
        .map(|e| (e.tag, e.id))
        .collect();
    let count = named.len();
    named.sort();
    named.dedup();
    if named.len() != count {
        return Err("a user or group appears twice in the ACL".into());
    }
    Ok(())
}

/// The mode an access ACL gives its path: the owner's and others' bits from their entries, the
/// group bits from the mask where there is one (else the group's entry); special bits kept.
pub fn mode_of(acl: &[AclEntry], mode: u32) -> u32 {
    let perms = |tag: Tag| acl.iter().find(|e| e.tag == tag).map(|e| u32::from(e.perms));
    let user = perms(Tag::UserObj).unwrap_or((mode >> 6) & 7);
    let group = perms(Tag::Mask)
        .or(perms(Tag::GroupObj))
        .unwrap_or((mode >> 3) & 7);
    let other = perms(Tag::Other).unwrap_or(mode & 7);
    (mode & 0o7000) | (user << 6) | (group << 3) | other
}

/// Whether an access ACL says no more than the mode does (the kernel then keeps no attribute).
pub fn is_minimal(acl: &[AclEntry]) -> bool {
    acl.iter()
        .all(|e| matches!(e.tag, Tag::UserObj | Tag::GroupObj | Tag::Other))
}

/// Gives an entry a new mode as chmod does on Linux: where the entry carries an access ACL, its
/// owner's, mask's (else group's) and others' entries follow the mode (`posix_acl_chmod`), so
/// the layer never carries a mode and an ACL that disagree. The default ACL is left as it is.
pub fn set_mode(e: &mut Entry, mode: u32) {
    e.mode = mode;
    let Some(mut list) = e.xattrs.get(ACCESS).and_then(|bytes| decode(bytes)) else {
        return;
    };
    let has_mask = list.iter().any(|x| x.tag == Tag::Mask);
    let bits = |shift: u32| ((mode >> shift) & 7) as u16;
    for x in &mut list {
        match x.tag {
            Tag::UserObj => x.perms = bits(6),
            Tag::Mask => x.perms = bits(3),
            Tag::GroupObj if !has_mask => x.perms = bits(3),
            Tag::Other => x.perms = bits(0),
            _ => {}
        }
    }
    e.xattrs.insert(ACCESS.to_owned(), encode(&list));
}

/// The attribute's bytes: the version, then the entries in the kernel's order (by tag, then by
/// user or group id), each tag, permissions and id, little-endian.
pub fn encode(acl: &[AclEntry]) -> Vec<u8> {
    let mut sorted = acl.to_vec();
    sorted.sort_by_key(|e| (e.tag, e.id));
    let mut out = VERSION.to_le_bytes().to_vec();
    for e in sorted {
        out.extend_from_slice(&(e.tag as u16).to_le_bytes());
        out.extend_from_slice(&e.perms.to_le_bytes());
        out.extend_from_slice(&e.id.unwrap_or(UNDEFINED_ID).to_le_bytes());
    }
    out
}

/// The entries of an attribute's bytes; `None` for what is not such an attribute.
pub fn decode(bytes: &[u8]) -> Option<Vec<AclEntry>> {
    let (version, rest) = bytes.split_first_chunk::<4>()?;
    if u32::from_le_bytes(*version) != VERSION || rest.len() % 8 != 0 {
        return None;
    }
    rest.chunks_exact(8)
        .map(|c| {
            let tag = Tag::from_raw(u16::from_le_bytes([c[0], c[1]]))?;
            let perms = u16::from_le_bytes([c[2], c[3]]);
            let id = u32::from_le_bytes([c[4], c[5], c[6], c[7]]);
            Some(AclEntry {
                tag,
                id: tag.named().then_some(id),
                perms,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(user: bool, name: &str) -> Result<u32, String> {
        match (user, name) {
            (false, "adm") => Ok(4),
            (true, "www-data") => Ok(33),
            _ => Err(format!("`{name}` unknown")),
        }
    }

    /// systemd's own line for the journal (`a+ /var/log/journal - - - - d:group::r-x,
    /// d:group:adm:r-x,group::r-x,group:adm:r-x`) on its 2755 directory gives both attributes
    /// the bytes a dpkg install of systemd 252 left on it (read with getfattr from the
    /// fidelity reference: `AgAAAAEABwD/////BAAFAP////8IAAUABAAAABAABQD/////IAAFAP////8=`).
    #[test]
    fn the_journals_acl_is_the_one_a_dpkg_install_leaves() {
        let spec = parse("d:group::r-x,d:group:adm:r-x,group::r-x,group:adm:r-x", &ids).unwrap();
        let mode = 0o2755;
        let mut access = merge(&from_mode(mode), &spec.access);
        add_mask_if_needed(&mut access);
        add_base_if_needed(&mut access, mode);
        check(&access).unwrap();
        let mut default = merge(&[], &spec.default);
        add_mask_if_needed(&mut default);
        add_base_if_needed(&mut default, mode_of(&access, mode));
        check(&default).unwrap();
        let expected: Vec<u8> = [
            &[2u8, 0, 0, 0][..],
            &[1, 0, 7, 0, 0xff, 0xff, 0xff, 0xff],
            &[4, 0, 5, 0, 0xff, 0xff, 0xff, 0xff],
            &[8, 0, 5, 0, 4, 0, 0, 0],
            &[0x10, 0, 5, 0, 0xff, 0xff, 0xff, 0xff],
            &[0x20, 0, 5, 0, 0xff, 0xff, 0xff, 0xff],
        ]
        .concat();
        assert_eq!(encode(&access), expected);
        assert_eq!(encode(&default), expected);
        assert_eq!(mode_of(&access, mode), 0o2755);
        assert_eq!(
            decode(&expected),
            Some(access.clone()).map(|mut a| {
                a.sort_by_key(|e| (e.tag, e.id));
                a
            })
        );
    }

    /// The mask limits the group bits of the mode; an entry given again replaces the old one;
    /// what the kernel refuses, and text that is not an ACL, are errors.
    #[test]
    fn masks_replacements_and_refusals() {
        let spec = parse("u:www-data:rwx,g::rwx", &ids).unwrap();
        let mut acl = merge(&from_mode(0o640), &spec.access);
        add_mask_if_needed(&mut acl);
        assert_eq!(mode_of(&acl, 0o640), 0o670);
        assert!(!is_minimal(&acl));
        let again = merge(&acl, &parse("user:www-data:r--", &ids).unwrap().access);
        assert_eq!(again.iter().filter(|e| e.tag == Tag::User).count(), 1);
        assert_eq!(
            again.iter().find(|e| e.tag == Tag::User).map(|e| e.perms),
            Some(4)
        );
        assert!(is_minimal(&merge(
            &from_mode(0o644),
            &parse("o::r--", &ids).unwrap().access
        )));
        assert_eq!(parse("other:r-x,m:rx", &ids).unwrap().access.len(), 2);
        let mut unmasked = from_mode(0o644);
        unmasked.push(AclEntry {
            tag: Tag::Group,
            id: Some(4),
            perms: 4,
        });
        assert!(check(&unmasked).is_err());
        for bad in [
            "x::rwx",
            "group:nobody:r-x",
            "user:adm",
            "group::rwz",
            "mask:adm:r",
        ] {
            assert!(parse(bad, &ids).is_err(), "{bad}");
        }
        // chmod on an entry with an ACL: the mask takes the group bits, the named entry stays.
        let mut e = Entry::generated("var/log/x", crate::entry::EntryKind::Directory, 0o2755);
        let mut acl = merge(&from_mode(0o2755), &parse("group:adm:r-x", &ids).unwrap().access);
        add_mask_if_needed(&mut acl);
        e.xattrs.insert(ACCESS.to_owned(), encode(&acl));
        set_mode(&mut e, 0o2700);
        let after = decode(&e.xattrs[ACCESS]).unwrap();
        let perms = |tag: Tag| after.iter().find(|x| x.tag == tag).map(|x| x.perms);
        assert_eq!(
            (
                perms(Tag::UserObj),
                perms(Tag::GroupObj),
                perms(Tag::Group),
                perms(Tag::Mask),
                perms(Tag::Other)
            ),
            (Some(7), Some(5), Some(5), Some(0), Some(0))
        );
        assert_eq!((e.mode, mode_of(&after, e.mode)), (0o2700, 0o2700));
        assert_eq!(decode(&[1, 0, 0, 0]), None);
        assert_eq!(decode(&[2, 0, 0, 0, 9, 0, 7, 0, 0, 0, 0, 0]), None);
    }
}

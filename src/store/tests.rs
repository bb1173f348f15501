//! Tests of the content-addressed store.

use super::*;

#[test]
fn inserts_only_verified_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let good = Expected {
        size: 5,
        sha256: Sha256Digest::of(b"hello"),
    };
    let d = store
        .insert(Kind::Deb, Some(&good), "hello.deb", |w| w.write_all(b"hello"))
        .unwrap()
        .unwrap();
    assert_eq!(d, good.sha256);
    assert!(store.contains(Kind::Deb, &good));
    assert_eq!(
        store.read_verified(Kind::Deb, &good, "hello.deb").unwrap(),
        b"hello"
    );

    let bad = Expected {
        size: 5,
        sha256: Sha256Digest::of(b"world"),
    };
    let err = store
        .insert(Kind::Deb, Some(&bad), "world.deb", |w| w.write_all(b"hello"))
        .unwrap_err();
    assert!(err.to_string().contains("world.deb"), "{err}");
    assert!(!store.contains(Kind::Deb, &bad));
    // Nothing is left behind in tmp/ either.
    assert_eq!(fs::read_dir(dir.path().join("tmp")).unwrap().count(), 0);
}

#[test]
fn a_failed_fill_leaves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let r: Result<(), &str> = store
        .insert(Kind::Deb, None, "x", |w| {
            w.write_all(b"partial").map_err(|_| "io")?;
            Err("network reset")
        })
        .unwrap()
        .map(|_| ());
    assert_eq!(r, Err("network reset"));
    assert_eq!(fs::read_dir(dir.path().join("tmp")).unwrap().count(), 0);
    assert_eq!(fs::read_dir(dir.path().join("debs/sha256")).unwrap().count(), 0);
}

#[test]
fn layer_cache_drops_a_key_whose_blob_is_damaged() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let cache = LayerCache::open(&store).unwrap();
    let digest = Sha256Digest::of(b"layer");
    fs::write(cache.blob_path(&digest), b"layer").unwrap();
    let key = Sha256Digest::of(b"key");
    let rec = CachedLayer {
        digest,
        size: 5,
        diff_id: digest,
        media_type: "x".into(),
        extra: serde_json::Value::Null,
        debs: Vec::new(),
    };
    cache.put(&key, &rec).unwrap();
    assert_eq!(cache.get(&key), Some(rec.clone()));
    cache.verify(&key, &rec).unwrap();
    // Verified once: stamped, so the next use trusts unchanged stat data…
    assert!(dir.path().join("layers/verified").join(digest.hex()).is_file());
    cache.verify(&key, &rec).unwrap();
    // …but a rewrite in place (same size) changes mtime and ctime, and is caught.
    fs::write(cache.blob_path(&digest), b"lay3r").unwrap();
    assert!(matches!(cache.verify(&key, &rec), Err(StoreError::Mismatch(_))));
    assert_eq!(cache.get(&key), None);
}

#[test]
fn detects_a_corrupted_entry_on_read() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let e = Expected {
        size: 5,
        sha256: Sha256Digest::of(b"hello"),
    };
    store
        .insert(Kind::Deb, Some(&e), "h", |w| w.write_all(b"hello"))
        .unwrap()
        .unwrap();
    fs::write(store.path(Kind::Deb, &e.sha256), b"jello").unwrap();
    assert!(matches!(
        store.read_verified(Kind::Deb, &e, "h"),
        Err(StoreError::Mismatch(_))
    ));
}

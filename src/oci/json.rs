//! Canonical JSON: object keys sorted by their UTF-8 bytes, no insignificant whitespace, strings
//! escaped as serde_json escapes them. Every JSON blob and `index.json` goes through here, so a
//! digest never depends on struct field order or on whether some dependency switched on
//! serde_json's `preserve_order` feature (which would make `Value` maps keep insertion order).

use serde::Serialize;
use serde_json::Value;

pub fn to_canonical_json<T: Serialize + ?Sized>(value: &T) -> Result<Vec<u8>, serde_json::Error> {
    let value = serde_json::to_value(value)?;
    let mut out = Vec::new();
    write_value(&value, &mut out)?;
    Ok(out)
}

fn write_value(value: &Value, out: &mut Vec<u8>) -> Result<(), serde_json::Error> {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
            out.push(b'{');
            for (i, (key, v)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                serde_json::to_writer(&mut *out, key)?;
                out.push(b':');
                write_value(v, out)?;
            }
            out.push(b'}');
        }
        Value::Array(items) => {
            out.push(b'[');
            for (i, v) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_value(v, out)?;
            }
            out.push(b']');
        }
        scalar => serde_json::to_writer(&mut *out, scalar)?,
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[derive(Serialize)]
    struct Unsorted {
        zebra: u32,
        #[serde(rename = "Alpha")]
        alpha: Vec<&'static str>,
        middle: HashMap<&'static str, Option<bool>>,
    }

    #[test]
    fn sorts_keys_and_drops_whitespace() {
        let mut middle = HashMap::new();
        for k in ["z", "b", "a", "é", "B"] {
            middle.insert(k, Some(true));
        }
        middle.insert("n", None);
        let v = Unsorted {
            zebra: 1,
            alpha: vec!["x y", "q\"\n"],
            middle,
        };
        let out = String::from_utf8(to_canonical_json(&v).unwrap()).unwrap();
        assert_eq!(
            out,
            r#"{"Alpha":["x y","q\"\n"],"middle":{"B":true,"a":true,"b":true,"n":null,"z":true,"é":true},"zebra":1}"#
        );
    }
}

//! Typed records: JSON values in an envelope that names their kind and schema version, so a
//! record written by an older Ingot is upgraded when it is read.

use crate::StoreError;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

pub trait Record: Serialize + DeserializeOwned + Send + Sync {
    /// Stable name of the record type (`ssm.parameter`).
    const KIND: &'static str;
    /// Bumped whenever the serialized form changes; [`Record::upgrade`] converts older forms.
    const SCHEMA_VERSION: u32;

    /// Converts `data` written at `version` (< SCHEMA_VERSION) into the current form.
    fn upgrade(version: u32, data: Value) -> Result<Value, String> {
        let _ = data;
        Err(format!("{} has no upgrade from schema version {version}", Self::KIND))
    }
}

#[derive(Serialize, Deserialize)]
struct Envelope<T> {
    kind: String,
    v: u32,
    data: T,
}

pub fn encode_record<R: Record>(record: &R) -> Vec<u8> {
    serde_json::to_vec(&Envelope { kind: R::KIND.to_string(), v: R::SCHEMA_VERSION, data: record })
        .expect("records serialize to JSON")
}

pub fn decode_record<R: Record>(bytes: &[u8]) -> Result<R, StoreError> {
    // The common case, a record of this build's schema version, decodes straight into the type;
    // anything else (older versions to upgrade, errors to report) takes the general path.
    if let Ok(env) = serde_json::from_slice::<Envelope<R>>(bytes) {
        if env.kind == R::KIND && env.v == R::SCHEMA_VERSION {
            return Ok(env.data);
        }
    }
    let env: Envelope<Value> = serde_json::from_slice(bytes).map_err(|e| StoreError::Decode(e.to_string()))?;
    if env.kind != R::KIND {
        return Err(StoreError::Decode(format!("expected {} record, found {}", R::KIND, env.kind)));
    }
    let mut data = env.data;
    if env.v > R::SCHEMA_VERSION {
        return Err(StoreError::Decode(format!("{} schema version {} is newer than this build", R::KIND, env.v)));
    }
    if env.v < R::SCHEMA_VERSION {
        data = R::upgrade(env.v, data).map_err(StoreError::Decode)?;
    }
    serde_json::from_value(data).map_err(|e| StoreError::Decode(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Serialize, Deserialize, Debug, PartialEq)]
    struct Thing {
        name: String,
        size: u32,
    }

    impl Record for Thing {
        const KIND: &'static str = "test.thing";
        const SCHEMA_VERSION: u32 = 2;
        fn upgrade(version: u32, mut data: Value) -> Result<Value, String> {
            // v1 had no size.
            if version == 1 {
                data["size"] = Value::from(0);
                Ok(data)
            } else {
                Err("unknown".into())
            }
        }
    }

    #[test]
    fn records_round_trip() {
        let t = Thing { name: "a".into(), size: 3 };
        assert_eq!(decode_record::<Thing>(&encode_record(&t)).unwrap(), t);
    }

    #[test]
    fn older_records_are_upgraded_on_read() {
        let old = br#"{"kind":"test.thing","v":1,"data":{"name":"a"}}"#;
        assert_eq!(decode_record::<Thing>(old).unwrap(), Thing { name: "a".into(), size: 0 });
    }

    #[test]
    fn records_of_another_kind_or_a_newer_version_are_refused() {
        assert!(decode_record::<Thing>(br#"{"kind":"x","v":2,"data":{}}"#).is_err());
        assert!(decode_record::<Thing>(br#"{"kind":"test.thing","v":3,"data":{}}"#).is_err());
    }
}

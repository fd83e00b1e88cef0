//! What DynamoDB would bill for the calls the proxy sees: item sizes by DynamoDB's rules and
//! the read and write request units they cost.
//!
//! Item size (Amazon DynamoDB Developer Guide, "DynamoDB item sizes and formats",
//! <https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/CapacityUnitCalculations.html>):
//! the sum over attributes of the UTF-8 length of the name plus the value's size — a string
//! its UTF-8 length, a number 1 byte per two significant digits plus 1 (leading and trailing
//! zeroes trimmed), a binary its raw length, a null or a Boolean 1 byte, a list or a map
//! 3 bytes of overhead plus its elements with 1 more byte each (a map element's name counts
//! as an attribute name).
//!
//! Units ("DynamoDB read and write operations",
//! <https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/read-write-operations.html>):
//! a write costs one unit per started KB (1024 bytes) of the item, twice that inside a
//! transaction; a read one unit per started 4 KB, half that when eventually consistent,
//! twice inside a transaction, and each item of a `BatchGetItem` is rounded on its own.
//! A key that finds no item is counted at the minimum, one 4 KB step.

use serde_json::{Map, Value};

/// The size of one attribute value (without its name).
pub fn value_size(value: &Value) -> usize {
    let Some((kind, v)) = value.as_object().and_then(|o| o.iter().next()) else {
        return 0;
    };
    match (kind.as_str(), v) {
        ("S", Value::String(s)) => s.len(),
        ("N", Value::String(n)) => number_size(n),
        ("B", Value::String(b)) => base64_len(b),
        ("BOOL" | "NULL", _) => 1,
        ("SS", Value::Array(a)) => a.iter().filter_map(Value::as_str).map(str::len).sum(),
        ("NS", Value::Array(a)) => a.iter().filter_map(Value::as_str).map(number_size).sum(),
        ("BS", Value::Array(a)) => a.iter().filter_map(Value::as_str).map(base64_len).sum(),
        ("L", Value::Array(a)) => 3 + a.iter().map(|e| value_size(e) + 1).sum::<usize>(),
        ("M", Value::Object(m)) => 3 + m.iter().map(|(k, e)| k.len() + value_size(e) + 1).sum::<usize>(),
        _ => 0,
    }
}

/// The size of an item in DynamoDB's JSON (`{"name": {"S": "..."}, ...}`).
pub fn item_size(item: &Map<String, Value>) -> usize {
    item.iter().map(|(name, v)| name.len() + value_size(v)).sum()
}

/// 1 byte per two significant digits, plus 1.
fn number_size(n: &str) -> usize {
    let mantissa = n.split(['e', 'E']).next().unwrap_or("");
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let significant = digits.trim_start_matches('0').trim_end_matches('0').len();
    significant.div_ceil(2) + 1
}

fn base64_len(b: &str) -> usize {
    let padding = b.bytes().rev().take_while(|&c| c == b'=').count();
    (b.len() / 4) * 3 - padding.min(2)
}

/// Write request units of one item: per started KB, doubled in a transaction.
pub fn write_units(size: usize, transactional: bool) -> f64 {
    let units = size.max(1).div_ceil(1024) as f64;
    if transactional { 2.0 * units } else { units }
}

/// Read request units of one item (`None`: the key found nothing, counted at the minimum).
pub fn read_units(size: Option<usize>, consistent: bool) -> f64 {
    let steps = size.unwrap_or(0).max(1).div_ceil(4096) as f64;
    if consistent { steps } else { steps / 2.0 }
}

/// The kind of an item, from its partition key: `LIVENESS_SESSION#…` → `LIVENESS_SESSION`.
pub fn kind(item: &Map<String, Value>) -> String {
    item.get("pk")
        .and_then(|v| v.get("S"))
        .and_then(Value::as_str)
        .map(|pk| pk.split('#').next().unwrap_or(pk).to_owned())
        .unwrap_or_else(|| "?".to_owned())
}

/// One item an operation wrote or read, as billed.
#[derive(Clone, Debug, PartialEq)]
pub struct Billed {
    pub kind: String,
    /// `None`: a read whose key found no item.
    pub bytes: Option<usize>,
    pub write_units: f64,
    pub read_units: f64,
}

/// The items of one DynamoDB call, from its request and response bodies (JSON 1.0).
pub fn bill(operation: &str, request: &[u8], response: &[u8]) -> Vec<Billed> {
    let parse = |b: &[u8]| serde_json::from_slice::<Value>(b).unwrap_or(Value::Null);
    let (req, resp) = (parse(request), parse(response));
    let object = |v: &Value| v.as_object().cloned().unwrap_or_default();
    let mut out = Vec::new();
    let mut write = |item: &Map<String, Value>, transactional: bool| {
        let size = item_size(item);
        out.push(Billed {
            kind: kind(item),
            bytes: Some(size),
            write_units: write_units(size, transactional),
            read_units: 0.0,
        });
    };
    match operation {
        "TransactWriteItems" => {
            for entry in req["TransactItems"].as_array().into_iter().flatten() {
                if let Some(item) = entry["Put"]["Item"].as_object() {
                    write(item, true);
                }
            }
        }
        "PutItem" => write(&object(&req["Item"]), false),
        "GetItem" => {
            let consistent = req["ConsistentRead"].as_bool().unwrap_or(false);
            let found = resp["Item"].as_object();
            out.push(Billed {
                kind: kind(&object(&req["Key"])),
                bytes: found.map(item_size),
                write_units: 0.0,
                read_units: read_units(found.map(item_size), consistent),
            });
        }
        "BatchGetItem" => {
            for (table, keys) in req["RequestItems"].as_object().into_iter().flatten() {
                let consistent = keys["ConsistentRead"].as_bool().unwrap_or(false);
                let found: Vec<Map<String, Value>> = resp["Responses"][table]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|i| i.as_object().cloned())
                    .collect();
                for key in keys["Keys"].as_array().into_iter().flatten() {
                    let key = object(key);
                    let item = found
                        .iter()
                        .find(|i| key.iter().all(|(name, v)| i.get(name) == Some(v)));
                    out.push(Billed {
                        kind: kind(&key),
                        bytes: item.map(item_size),
                        write_units: 0.0,
                        read_units: read_units(item.map(item_size), consistent),
                    });
                }
            }
        }
        _ => {}
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn size(v: Value) -> usize {
        item_size(v.as_object().unwrap())
    }

    #[test]
    fn scalars() {
        // name + UTF-8 bytes
        assert_eq!(size(json!({"pk": {"S": "abc"}})), 5);
        assert_eq!(size(json!({"s": {"S": "é"}})), 3);
        // 0 significant digits → 1 byte; 12345 → 3 + 1; leading/trailing zeroes trimmed
        assert_eq!(size(json!({"n": {"N": "0"}})), 2);
        assert_eq!(size(json!({"n": {"N": "12345"}})), 5);
        assert_eq!(size(json!({"n": {"N": "1000"}})), 3);
        assert_eq!(size(json!({"n": {"N": "-0.0012"}})), 3);
        assert_eq!(size(json!({"ttl": {"N": "1726162226"}})), 3 + 6);
        assert_eq!(size(json!({"b": {"BOOL": true}, "z": {"NULL": true}})), 4);
        // binary: raw length of the base64 value ("hello" = aGVsbG8=)
        assert_eq!(size(json!({"b": {"B": "aGVsbG8="}})), 6);
    }

    #[test]
    fn lists_and_maps() {
        // empty list: name + 3
        assert_eq!(size(json!({"proFields": {"L": []}})), 9 + 3);
        // [ "ab", 1 ]: 3 + (2 + 1) + (2 + 1)
        assert_eq!(size(json!({"l": {"L": [{"S": "ab"}, {"N": "1"}]}})), 1 + 3 + 3 + 3);
        // {"k": "v"}: 3 + (1 + 1 + 1)
        assert_eq!(size(json!({"m": {"M": {"k": {"S": "v"}}}})), 1 + 3 + 3);
    }

    #[test]
    fn units() {
        assert_eq!(write_units(494, true), 2.0);
        assert_eq!(write_units(1024, false), 1.0);
        assert_eq!(write_units(1025, false), 2.0);
        assert_eq!(write_units(1406, true), 4.0);
        assert_eq!(read_units(Some(3500), true), 1.0);
        assert_eq!(read_units(Some(8192), false), 1.0);
        assert_eq!(read_units(None, true), 1.0);
        assert_eq!(read_units(None, false), 0.5);
    }

    #[test]
    fn bills_a_transaction_and_a_batch_read() {
        let req = json!({"TransactItems": [
            {"Put": {"TableName": "t", "Item": {"pk": {"S": "LIVENESS_SESSION#1"}, "sk": {"S": "x"}}}},
            {"Put": {"TableName": "t", "Item": {"pk": {"S": "IDEMPOTENCY#a#b"}, "big": {"S": "x".repeat(1100)}}}}
        ]});
        let billed = bill("TransactWriteItems", req.to_string().as_bytes(), b"{}");
        assert_eq!(billed.len(), 2);
        assert_eq!(billed[0].kind, "LIVENESS_SESSION");
        assert_eq!(billed[0].write_units, 2.0);
        assert_eq!(billed[1].kind, "IDEMPOTENCY");
        assert_eq!(billed[1].write_units, 4.0);

        let req = json!({"RequestItems": {"t": {"ConsistentRead": true, "Keys": [
            {"pk": {"S": "PROJECT#p"}, "sk": {"S": "PROJECT"}},
            {"pk": {"S": "IDEMPOTENCY#c#h"}, "sk": {"S": "IDEMPOTENCY"}}
        ]}}});
        let resp =
            json!({"Responses": {"t": [{"pk": {"S": "PROJECT#p"}, "sk": {"S": "PROJECT"}, "name": {"S": "n"}}]}});
        let billed = bill("BatchGetItem", req.to_string().as_bytes(), resp.to_string().as_bytes());
        assert_eq!(billed.len(), 2);
        assert_eq!(billed[0].bytes, Some(2 + 9 + 2 + 7 + 4 + 1));
        assert_eq!(billed[1].bytes, None);
        assert_eq!(billed.iter().map(|b| b.read_units).sum::<f64>(), 2.0);
    }
}

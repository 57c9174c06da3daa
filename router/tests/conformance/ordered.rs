//! JSON that keeps object keys in document order, to compare a response's field order with
//! the expected one (`serde_json::Value` sorts keys unless built with `preserve_order`).

use std::fmt;

use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};

/// A JSON value with ordered objects.
#[derive(Debug, Clone)]
pub enum Ordered {
    Null,
    Bool(bool),
    Number(serde_json::Number),
    String(String),
    Array(Vec<Ordered>),
    Object(Vec<(String, Ordered)>),
}

impl Ordered {
    pub fn parse(text: &str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(text)
    }

    pub fn get(&self, key: &str) -> Option<&Ordered> {
        match self {
            Ordered::Object(fields) => fields.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    pub fn index(&self, index: usize) -> Option<&Ordered> {
        match self {
            Ordered::Array(items) => items.get(index),
            _ => None,
        }
    }
}

/// Equal values with object keys in the same order; `1` and `1.0` are equal.
impl PartialEq for Ordered {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Ordered::Null, Ordered::Null) => true,
            (Ordered::Bool(a), Ordered::Bool(b)) => a == b,
            (Ordered::Number(a), Ordered::Number(b)) => a == b || a.as_f64() == b.as_f64(),
            (Ordered::String(a), Ordered::String(b)) => a == b,
            (Ordered::Array(a), Ordered::Array(b)) => a == b,
            (Ordered::Object(a), Ordered::Object(b)) => a == b,
            _ => false,
        }
    }
}

impl fmt::Display for Ordered {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Ordered::Null => f.write_str("null"),
            Ordered::Bool(b) => write!(f, "{b}"),
            Ordered::Number(n) => write!(f, "{n}"),
            Ordered::String(s) => write!(f, "{}", serde_json::Value::String(s.clone())),
            Ordered::Array(items) => {
                f.write_str("[")?;
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(",")?;
                    }
                    write!(f, "{item}")?;
                }
                f.write_str("]")
            }
            Ordered::Object(fields) => {
                f.write_str("{")?;
                for (i, (key, value)) in fields.iter().enumerate() {
                    if i > 0 {
                        f.write_str(",")?;
                    }
                    write!(f, "{}:{value}", serde_json::Value::String(key.clone()))?;
                }
                f.write_str("}")
            }
        }
    }
}

impl<'de> Deserialize<'de> for Ordered {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(OrderedVisitor)
    }
}

struct OrderedVisitor;

impl<'de> Visitor<'de> for OrderedVisitor {
    type Value = Ordered;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_unit<E>(self) -> Result<Ordered, E> {
        Ok(Ordered::Null)
    }

    fn visit_none<E>(self) -> Result<Ordered, E> {
        Ok(Ordered::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Ordered, D::Error> {
        Ordered::deserialize(d)
    }

    fn visit_bool<E>(self, v: bool) -> Result<Ordered, E> {
        Ok(Ordered::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Ordered, E> {
        Ok(Ordered::Number(v.into()))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Ordered, E> {
        Ok(Ordered::Number(v.into()))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Ordered, E> {
        Ok(serde_json::Number::from_f64(v).map_or(Ordered::Null, Ordered::Number))
    }

    fn visit_str<E>(self, v: &str) -> Result<Ordered, E> {
        Ok(Ordered::String(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Ordered, E> {
        Ok(Ordered::String(v))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Ordered, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Ordered::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Ordered, A::Error> {
        let mut fields = Vec::new();
        while let Some((key, value)) = map.next_entry::<String, Ordered>()? {
            fields.push((key, value));
        }
        Ok(Ordered::Object(fields))
    }
}

#[cfg(test)]
mod tests {
    use super::Ordered;

    #[test]
    fn key_order_matters_number_spelling_does_not() {
        let a = Ordered::parse(r#"{"b":1,"a":[2.0,{"x":null}]}"#).expect("valid");
        let b = Ordered::parse(r#"{"b":1.0,"a":[2,{"x":null}]}"#).expect("valid");
        let c = Ordered::parse(r#"{"a":[2,{"x":null}],"b":1}"#).expect("valid");
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_eq!(a.to_string(), r#"{"b":1,"a":[2.0,{"x":null}]}"#);
    }
}

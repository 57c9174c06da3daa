//! Operations on the intermediate result tree: finding the objects a flatten path points at,
//! reaching one of them again by its concrete path, merging subgraph results in, and applying
//! the planner's input/output rewrites.

use hive_router_query_planner::planner::plan_nodes::{
    FetchNodePathSegment, FetchRewrite, FlattenNodePathSegment,
};
use serde_json::Value;

use crate::error::PathSegment;
use crate::schema::SchemaIndex;

/// Whether the object's `__typename` satisfies one of `types` (exactly or as an abstract type).
pub(crate) fn typename_matches<'a>(
    schema: &SchemaIndex,
    object: &serde_json::Map<String, Value>,
    mut types: impl Iterator<Item = &'a String>,
) -> bool {
    match object.get("__typename").and_then(Value::as_str) {
        Some(typename) => types.any(|t| schema.type_applies(t, typename)),
        // Without a typename there is nothing to discriminate on; the planner only emits type
        // conditions where it also selected `__typename`.
        None => false,
    }
}

/// One step of a location in the result tree: a response key borrowed from the plan's flatten
/// path, or a list index.
///
/// What it buys: an entity fetch records the location of every object it collects a
/// representation from (thousands in the deep benchmark query, each several steps deep); with
/// owned [`PathSegment`]s every step of every location was a `String` allocation. Locations
/// become owned paths only when an error or a failed fetch needs them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Step<'p> {
    Key(&'p str),
    Index(usize),
}

impl<'p> Step<'p> {
    pub(crate) fn of(segment: &'p PathSegment) -> Self {
        match segment {
            PathSegment::Key(key) => Step::Key(key),
            PathSegment::Index(index) => Step::Index(*index),
        }
    }
}

/// The owned response path of a location.
pub(crate) fn owned_path(location: &[Step<'_>]) -> Vec<PathSegment> {
    location
        .iter()
        .map(|step| match step {
            Step::Key(key) => PathSegment::Key((*key).to_owned()),
            Step::Index(index) => PathSegment::Index(*index),
        })
        .collect()
}

/// Receives each object a flatten path leads to, with its concrete path.
pub(crate) type ObjectVisitor<'f, 'v, 'p> =
    dyn FnMut(&[Step<'p>], &'v serde_json::Map<String, Value>) + 'f;

/// Calls `visit` with the concrete path and value of every object `segments` leads to.
pub(crate) fn for_each_object<'v, 'p>(
    schema: &SchemaIndex,
    value: &'v Value,
    segments: &'p [FlattenNodePathSegment],
    current: &mut Vec<Step<'p>>,
    visit: &mut ObjectVisitor<'_, 'v, 'p>,
) {
    match (value, segments.split_first()) {
        (Value::Array(items), first)
            if !matches!(first, Some((FlattenNodePathSegment::List, _))) =>
        {
            // Lists are implicit at the end of a path and tolerated where the path omits `@`.
            for (index, item) in items.iter().enumerate() {
                current.push(Step::Index(index));
                for_each_object(schema, item, segments, current, visit);
                current.pop();
            }
        }
        (Value::Object(object), None) => visit(current, object),
        (_, None) => {}
        (Value::Object(object), Some((FlattenNodePathSegment::Field(key), rest))) => {
            if let Some(child) = object.get(key) {
                current.push(Step::Key(key));
                for_each_object(schema, child, rest, current, visit);
                current.pop();
            }
        }
        (Value::Array(items), Some((FlattenNodePathSegment::List, rest))) => {
            for (index, item) in items.iter().enumerate() {
                current.push(Step::Index(index));
                for_each_object(schema, item, rest, current, visit);
                current.pop();
            }
        }
        (Value::Object(object), Some((FlattenNodePathSegment::TypeCondition(types), rest)))
            if typename_matches(schema, object, types.iter()) =>
        {
            for_each_object(schema, value, rest, current, visit);
        }
        _ => {}
    }
}

/// The value at a concrete path, for writing.
pub(crate) fn get_mut<'v>(mut value: &'v mut Value, path: &[Step<'_>]) -> Option<&'v mut Value> {
    for segment in path {
        value = match (value, segment) {
            (Value::Object(object), Step::Key(key)) => object.get_mut(*key)?,
            (Value::Array(items), Step::Index(index)) => items.get_mut(*index)?,
            _ => return None,
        };
    }
    Some(value)
}

/// Merges `source` into `target`: objects key by key, equally long lists item by item.
///
/// A `null` never overwrites data another subgraph already delivered. Of two different
/// `__typename`s a concrete type wins over an interface's name: an `@interfaceObject`
/// subgraph answers with the interface's name, the owning subgraph with the real type,
/// in whichever order the fetches ran.
pub(crate) fn deep_merge(schema: &SchemaIndex, target: &mut Value, source: Value) {
    match (target, source) {
        (Value::Object(target), Value::Object(source)) => {
            for (key, value) in source {
                match target.get_mut(&key) {
                    Some(existing) => {
                        if key == "__typename" {
                            if let (Value::String(old), Value::String(new)) = (&*existing, &value)
                                && old != new
                                && schema.is_abstract(old)
                                && !schema.is_abstract(new)
                            {
                                *existing = value;
                            }
                            continue;
                        }
                        deep_merge(schema, existing, value);
                    }
                    None => {
                        target.insert(key, value);
                    }
                }
            }
        }
        (Value::Array(target), Value::Array(source)) if target.len() == source.len() => {
            for (existing, value) in target.iter_mut().zip(source) {
                deep_merge(schema, existing, value);
            }
        }
        (_, Value::Null) => {}
        (target, source) => *target = source,
    }
}

/// [`deep_merge`] of a copy of `source`, copying only what `target` does not have yet.
///
/// What it buys: one entity answer is merged at every location its representation stood for
/// (a product under each of its reviews); merging a full copy built each copy's maps only to
/// take them apart again key by key.
pub(crate) fn deep_merge_copy(schema: &SchemaIndex, target: &mut Value, source: &Value) {
    match (target, source) {
        (Value::Object(target), Value::Object(source)) => {
            for (key, value) in source {
                match target.get_mut(key) {
                    Some(existing) => {
                        if key == "__typename" {
                            if let (Value::String(old), Value::String(new)) = (&*existing, value)
                                && old != new
                                && schema.is_abstract(old)
                                && !schema.is_abstract(new)
                            {
                                *existing = value.clone();
                            }
                            continue;
                        }
                        deep_merge_copy(schema, existing, value);
                    }
                    None => {
                        target.insert(key.clone(), value.clone());
                    }
                }
            }
        }
        (Value::Array(target), Value::Array(source)) if target.len() == source.len() => {
            for (existing, value) in target.iter_mut().zip(source) {
                deep_merge_copy(schema, existing, value);
            }
        }
        (_, Value::Null) => {}
        (target, source) => *target = source.clone(),
    }
}

/// Merges one `_entities` answer into the result tree: `entities[i]` resolves representation
/// `i` and is merged at every location in `targets[i]` (one representation can stand for
/// many objects, such as one author of many reviews). Locations whose entity is missing or
/// `null` are appended to `failed` with the representation's index, so the nulls found there
/// later can be explained by the fetch's errors.
pub(crate) fn merge_entities<'p>(
    schema: &SchemaIndex,
    data: &mut Value,
    entities: Vec<Value>,
    targets: Vec<Vec<Vec<Step<'p>>>>,
    output_rewrites: Option<&[FetchRewrite]>,
    failed: &mut Vec<(usize, Vec<Step<'p>>)>,
    kept: &mut Vec<KeptKey>,
) {
    let mut entities = entities.into_iter();
    for (index, locations) in targets.into_iter().enumerate() {
        let Some(mut entity) = entities.next() else {
            // The subgraph sent fewer entities than asked for.
            failed.extend(locations.into_iter().map(|l| (index, l)));
            continue;
        };
        if let Some(rewrites) = output_rewrites {
            apply_rewrites(schema, &mut entity, rewrites, Some(&mut *kept));
        }
        if entity.is_null() {
            failed.extend(locations.into_iter().map(|l| (index, l)));
            continue;
        }
        let count = locations.len();
        for (i, location) in locations.into_iter().enumerate() {
            let Some(slot) = get_mut(data, &location) else {
                continue;
            };
            // The last location takes the value; earlier ones get copies.
            if i + 1 == count {
                deep_merge(schema, slot, std::mem::take(&mut entity));
            } else {
                deep_merge_copy(schema, slot, &entity);
            }
        }
    }
}

/// A key an output rewrite should have renamed, left in place because the new name is
/// already taken by a field the client named so (`number: view` next to the planner's
/// `_internal_qp_alias_0: number`): `(new name, key holding the value)`. Representations read
/// the field from the kept key.
pub(crate) type KeptKey = (String, String);

/// Applies the planner's rewrites (set a value, rename a key) to `value`. With `kept`, a
/// rename onto an existing key keeps both and records the pair there instead.
pub(crate) fn apply_rewrites(
    schema: &SchemaIndex,
    value: &mut Value,
    rewrites: &[FetchRewrite],
    mut kept: Option<&mut Vec<KeptKey>>,
) {
    for rewrite in rewrites {
        let path = match rewrite {
            FetchRewrite::ValueSetter(setter) => &setter.path,
            FetchRewrite::KeyRenamer(renamer) => &renamer.path,
        };
        apply_rewrite(schema, value, path, rewrite, &mut kept);
    }
}

fn apply_rewrite(
    schema: &SchemaIndex,
    value: &mut Value,
    path: &[FetchNodePathSegment],
    rewrite: &FetchRewrite,
    kept: &mut Option<&mut Vec<KeptKey>>,
) {
    if let Value::Array(items) = value {
        for item in items {
            apply_rewrite(schema, item, path, rewrite, kept);
        }
        return;
    }
    let Value::Object(object) = value else {
        return;
    };
    match path.split_first() {
        Some((FetchNodePathSegment::TypenameEquals(types), rest))
            if typename_matches(schema, object, types.iter()) =>
        {
            apply_rewrite(schema, value, rest, rewrite, kept);
        }
        None | Some((FetchNodePathSegment::TypenameEquals(_), _)) => {}
        Some((FetchNodePathSegment::Key(key), [])) => match rewrite {
            FetchRewrite::ValueSetter(setter) => {
                object.insert(key.clone(), Value::String(setter.set_value_to.clone()));
            }
            FetchRewrite::KeyRenamer(renamer) => {
                let target = &renamer.rename_key_to;
                if let Some(kept) = kept.as_deref_mut()
                    && target != key
                    && object.contains_key(target)
                {
                    if object.contains_key(key)
                        && !kept.iter().any(|(t, k)| t == target && k == key)
                    {
                        kept.push((target.clone(), key.clone()));
                    }
                } else if let Some(moved) = object.remove(key) {
                    object.insert(target.clone(), moved);
                }
            }
        },
        Some((FetchNodePathSegment::Key(key), rest)) => {
            if let Some(child) = object.get_mut(key) {
                apply_rewrite(schema, child, rest, rewrite, kept);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn schema(sdl: &str) -> SchemaIndex {
        SchemaIndex::new(std::sync::Arc::new(
            graphql_tools::parser::parse_schema::<String>(sdl)
                .expect("schema parses")
                .into_static(),
        ))
    }

    #[test]
    fn merge_keeps_existing_data_against_null() {
        let schema = schema("type Query { a: Int } type Book { id: ID }");
        let mut target = json!({"__typename": "Book", "id": "1", "items": [{"a": 1}, {"a": 2}]});
        deep_merge(
            &schema,
            &mut target,
            json!({"__typename": "Book", "id": null, "title": "T", "items": [{"b": 1}, {"b": 2}]}),
        );
        assert_eq!(
            target,
            json!({"__typename": "Book", "id": "1", "title": "T",
                   "items": [{"a": 1, "b": 1}, {"a": 2, "b": 2}]})
        );
    }

    #[test]
    fn merging_a_copy_equals_merging_a_clone() {
        let schema = schema(
            "type Query { a: Int } interface Media { id: ID } type Book implements Media { id: ID }",
        );
        let targets = [
            json!({"__typename": "Media", "id": "1", "items": [{"a": 1}, {"a": 2}], "x": {"y": 1}}),
            json!({"__typename": "Book", "id": null, "items": [{"a": 1}], "x": 5}),
            json!(null),
        ];
        let source = json!({"__typename": "Book", "id": "2", "title": null,
                            "items": [{"b": 1}, {"b": null}], "x": {"z": [1, 2]}});
        for target in targets {
            let mut by_value = target.clone();
            deep_merge(&schema, &mut by_value, source.clone());
            let mut by_copy = target;
            deep_merge_copy(&schema, &mut by_copy, &source);
            assert_eq!(by_copy, by_value);
            assert_eq!(
                serde_json::to_string(&by_copy).expect("serialises"),
                serde_json::to_string(&by_value).expect("serialises")
            );
        }
    }

    #[test]
    fn a_concrete_typename_replaces_an_interface_name_in_either_order() {
        let schema = schema(
            "type Query { a: Int } interface Media { id: ID } type Book implements Media { id: ID }",
        );
        let mut from_interface_object = json!({"__typename": "Media", "id": "1"});
        deep_merge(
            &schema,
            &mut from_interface_object,
            json!({"__typename": "Book", "t": 1}),
        );
        assert_eq!(
            from_interface_object,
            json!({"__typename": "Book", "id": "1", "t": 1})
        );

        let mut from_owner = json!({"__typename": "Book", "id": "1"});
        deep_merge(
            &schema,
            &mut from_owner,
            json!({"__typename": "Media", "t": 1}),
        );
        assert_eq!(from_owner, json!({"__typename": "Book", "id": "1", "t": 1}));
    }

    #[test]
    fn merge_entities_fills_every_location_and_reports_unresolved_ones() {
        // Without output rewrites the schema is never consulted; any schema does.
        let schema = SchemaIndex::new(std::sync::Arc::new(
            graphql_tools::parser::parse_schema::<String>("type Query { a: Int }")
                .expect("schema parses")
                .into_static(),
        ));
        let at = |i: usize| vec![Step::Key("list"), Step::Index(i)];
        let mut data = json!({"list": [{"id": "a"}, {"id": "b"}, {"id": "a"}, {"id": "c"}]});
        let mut failed = Vec::new();
        merge_entities(
            &schema,
            &mut data,
            // "b" resolved to null, "c" missing from the answer entirely.
            vec![json!({"name": "A"}), Value::Null],
            vec![vec![at(0), at(2)], vec![at(1)], vec![at(3)]],
            None,
            &mut failed,
            &mut Vec::new(),
        );
        assert_eq!(
            data,
            json!({"list": [{"id": "a", "name": "A"}, {"id": "b"}, {"id": "a", "name": "A"}, {"id": "c"}]})
        );
        assert_eq!(failed, vec![(1, at(1)), (2, at(3))]);
    }

    #[test]
    fn get_mut_follows_keys_and_indexes() {
        let mut value = json!({"a": [{"b": 1}, {"b": 2}]});
        let path = [Step::Key("a"), Step::Index(1), Step::Key("b")];
        *get_mut(&mut value, &path).expect("path exists") = json!(3);
        assert_eq!(value, json!({"a": [{"b": 1}, {"b": 3}]}));
        assert!(get_mut(&mut value, &[Step::Index(0)]).is_none());
    }
}

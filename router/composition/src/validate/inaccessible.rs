//! Across subgraphs, on the merged model: a visible field, argument or input field cannot
//! have an `@inaccessible` type.

use crate::error::{CompositionError, ErrorCode};
use crate::merge::SupergraphModel;

/// A visible field, argument or input field cannot have a hidden type: clients would see
/// a reference to a type that does not exist for them.
pub(super) fn inaccessible_references(model: &SupergraphModel, errors: &mut Vec<CompositionError>) {
    let hidden = |name: &str| {
        model
            .types
            .get(name)
            .is_some_and(|t| t.exposure.inaccessible)
    };
    let mut report = |coordinate: String, target: &str| {
        errors.push(
            CompositionError::new(
                ErrorCode::ReferencedInaccessible,
                format!("\"{coordinate}\" is visible but its type \"{target}\" is @inaccessible; hide it too or make the type visible"),
            )
            .with_coordinates([coordinate, target.to_owned()]),
        );
    };
    for ty in model.types.values().filter(|t| !t.exposure.inaccessible) {
        for f in ty.fields.iter().filter(|f| !f.exposure.inaccessible) {
            if hidden(f.ty.base()) {
                report(format!("{}.{}", ty.name, f.name), f.ty.base());
            }
            for a in f.args.iter().filter(|a| !a.exposure.inaccessible) {
                if hidden(a.ty.base()) {
                    report(format!("{}.{}({}:)", ty.name, f.name, a.name), a.ty.base());
                }
            }
        }
        for f in ty.input_fields.iter().filter(|f| !f.exposure.inaccessible) {
            if hidden(f.ty.base()) {
                report(format!("{}.{}", ty.name, f.name), f.ty.base());
            }
        }
    }
}

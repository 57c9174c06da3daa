//! Unions and scalars: unions take every member any subgraph declares (each membership
//! recorded per graph); scalars only need to know which subgraphs have them.

use super::{Source, SuperType, join_types_of};

pub(super) fn merge_union(out: &mut SuperType, sources: &[Source<'_>]) {
    for (sg, ty) in sources {
        out.join_types.extend(join_types_of(sg, ty));
        for member in &ty.members {
            match out.members.iter_mut().find(|(m, _)| m == member) {
                Some((_, graphs)) => graphs.push(sg.graph.clone()),
                None => out.members.push((member.clone(), vec![sg.graph.clone()])),
            }
        }
    }
}

pub(super) fn merge_scalar(out: &mut SuperType, sources: &[Source<'_>]) {
    for (sg, ty) in sources {
        out.join_types.extend(join_types_of(sg, ty));
    }
    out.specified_by = sources.iter().find_map(|(_, t)| t.specified_by.clone());
}

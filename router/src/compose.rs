//! `supergraph.yaml` and composition: which subgraphs make up the graph, where their SDL
//! comes from, and turning them into the supergraph the router serves.
//!
//! ```yaml
//! subgraphs:
//!   products:
//!     routing_url: ${PRODUCTS_URL:-http://127.0.0.1:4001/graphql}
//!     schema:
//!       file: schema/products.graphql          # relative to this file's folder
//!   users:
//!     routing_url: http://127.0.0.1:4004/graphql
//!     schema:
//!       subgraph_url: http://127.0.0.1:4004/graphql   # asks the running subgraph: { _service { sdl } }
//! ```
//!
//! `${VAR}` and `${VAR:-default}` are replaced from the environment before parsing, so
//! routing URLs can differ per deployment without editing the file.
//!
//! Next to the supergraph, `router compose` writes the API schema ([`api_schema`]): what
//! clients see (the supergraph without federation's own types and directives and without
//! `@inaccessible` parts), which frontend code generators read from the repository and
//! the router serves at `GET /schema.graphql`.

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
    time::Duration,
};

use composition::SubgraphSdl;
use serde::Deserialize;
use serde_json::{Value, json};

/// Why composition did not produce a supergraph.
#[derive(Debug, thiserror::Error)]
pub enum ComposeError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{path} is not a valid supergraph config: {reason}")]
    Config { path: String, reason: String },
    #[error("environment variable {0} is not set and has no default")]
    MissingVariable(String),
    #[error("cannot fetch the SDL of subgraph `{subgraph}` from {url}: {reason}")]
    Introspection {
        subgraph: String,
        url: String,
        reason: String,
    },
    #[error("composition failed:\n{0}")]
    Conflicts(composition::CompositionErrors),
    #[error("the composed supergraph cannot be served: {0}")]
    Unservable(String),
}

/// The parsed `supergraph.yaml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SupergraphFile {
    pub subgraphs: BTreeMap<String, SubgraphEntry>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubgraphEntry {
    pub routing_url: String,
    pub schema: SchemaSource,
}

/// Where a subgraph's SDL comes from; exactly one of the two is set.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SchemaSource {
    /// A file, relative to the folder of `supergraph.yaml`.
    pub file: Option<PathBuf>,
    /// The running subgraph's URL, asked for `_service { sdl }`.
    pub subgraph_url: Option<String>,
}

/// Replaces `${VAR}` and `${VAR:-default}` using `lookup`.
pub fn interpolate(
    text: &str,
    lookup: impl Fn(&str) -> Option<String>,
) -> Result<String, ComposeError> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else {
            out.push_str(&rest[start..]);
            return Ok(out);
        };
        let expr = &after[..end];
        let (name, default) = match expr.split_once(":-") {
            Some((name, default)) => (name, Some(default)),
            None => (expr, None),
        };
        match lookup(name.trim()).filter(|v| !v.is_empty()) {
            Some(value) => out.push_str(&value),
            None => match default {
                Some(default) => out.push_str(default),
                None => return Err(ComposeError::MissingVariable(name.trim().to_owned())),
            },
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

impl SupergraphFile {
    /// Reads and parses `path`, interpolating the process environment.
    pub fn load(path: &Path) -> Result<Self, ComposeError> {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| ComposeError::Read {
            path: shown.clone(),
            source,
        })?;
        let text = interpolate(&text, |name| std::env::var(name).ok())?;
        let file: Self = serde_yaml_ng::from_str(&text).map_err(|e| ComposeError::Config {
            path: shown.clone(),
            reason: e.to_string(),
        })?;
        if file.subgraphs.is_empty() {
            return Err(ComposeError::Config {
                path: shown,
                reason: "no subgraphs listed".to_owned(),
            });
        }
        Ok(file)
    }

    /// Collects every subgraph's SDL; `base` is the folder relative files are read from.
    pub async fn resolve(&self, base: &Path) -> Result<Vec<SubgraphSdl>, ComposeError> {
        let mut subgraphs = Vec::with_capacity(self.subgraphs.len());
        for (name, entry) in &self.subgraphs {
            let sdl = match (&entry.schema.file, &entry.schema.subgraph_url) {
                (Some(file), None) => {
                    let path = base.join(file);
                    std::fs::read_to_string(&path).map_err(|source| ComposeError::Read {
                        path: path.display().to_string(),
                        source,
                    })?
                }
                (None, Some(url)) => fetch_sdl(name, url).await?,
                _ => {
                    return Err(ComposeError::Config {
                        path: format!("subgraph `{name}`"),
                        reason: "`schema` needs exactly one of `file` and `subgraph_url`"
                            .to_owned(),
                    });
                }
            };
            subgraphs.push(SubgraphSdl {
                name: name.clone(),
                url: entry.routing_url.clone(),
                sdl,
            });
        }
        Ok(subgraphs)
    }
}

async fn fetch_sdl(subgraph: &str, url: &str) -> Result<String, ComposeError> {
    let fail = |reason: String| ComposeError::Introspection {
        subgraph: subgraph.to_owned(),
        url: url.to_owned(),
        reason,
    };
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .map_err(|e| fail(e.to_string()))?;
    let response: Value = client
        .post(url)
        .json(&json!({ "query": "{ _service { sdl } }" }))
        .send()
        .await
        .and_then(reqwest::Response::error_for_status)
        .map_err(|e| fail(e.to_string()))?
        .json()
        .await
        .map_err(|e| fail(e.to_string()))?;
    response
        .pointer("/data/_service/sdl")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| fail(format!("the answer has no data._service.sdl: {response}")))
}

/// Composes the subgraphs listed in the `supergraph.yaml` at `path`.
pub async fn compose_file(path: &Path) -> Result<String, ComposeError> {
    let file = SupergraphFile::load(path)?;
    let base = path.parent().unwrap_or(Path::new("."));
    let subgraphs = file.resolve(base).await?;
    let supergraph = composition::compose(&subgraphs).map_err(ComposeError::Conflicts)?;
    for warning in &supergraph.warnings {
        tracing::warn!(%warning, "composition warning");
    }
    Ok(supergraph.sdl)
}

/// The API schema of a supergraph, as SDL: what introspection answers, and what
/// `GET /schema.graphql` serves.
pub fn api_schema(supergraph_sdl: &str) -> Result<String, ComposeError> {
    let executor = executor::Executor::new(supergraph_sdl, executor::ExecutorConfig::default())
        .map_err(|e| ComposeError::Unservable(e.to_string()))?;
    Ok(api_schema_of(&executor))
}

/// The API schema an executor serves, without the scalars and directives every GraphQL
/// schema has built in (tools add those themselves, as graphql-js's `printSchema` omits
/// them).
pub fn api_schema_of(executor: &executor::Executor) -> String {
    use graphql_parser::schema::{Definition, TypeDefinition};
    const BUILT_IN_SCALARS: [&str; 5] = ["String", "Int", "Float", "Boolean", "ID"];
    const BUILT_IN_DIRECTIVES: [&str; 5] =
        ["skip", "include", "deprecated", "specifiedBy", "oneOf"];
    let sdl = executor.public_schema_sdl();
    let Ok(mut document) = graphql_parser::parse_schema::<String>(&sdl) else {
        // The executor printed it from a parsed document, so this does not happen.
        return sdl;
    };
    document.definitions.retain(|definition| match definition {
        Definition::TypeDefinition(TypeDefinition::Scalar(s)) => {
            !BUILT_IN_SCALARS.contains(&s.name.as_str())
        }
        Definition::DirectiveDefinition(d) => !BUILT_IN_DIRECTIVES.contains(&d.name.as_str()),
        _ => true,
    });
    document.to_string()
}

/// Where the API schema goes for a supergraph written to `supergraph_output`: the same
/// folder, `api.graphql`.
pub fn api_schema_path(supergraph_output: &Path) -> PathBuf {
    supergraph_output.with_file_name("api.graphql")
}

/// Writes `sdl` to `output` through a temporary file and a rename, so a router polling
/// the file never reads half of it.
pub fn write_supergraph(output: &Path, sdl: &str) -> Result<(), std::io::Error> {
    if let Some(parent) = output.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)?;
    }
    let mut tmp = output.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    std::fs::write(&tmp, sdl)?;
    std::fs::rename(&tmp, output)
}

/// Whether `output` holds exactly `sdl`; a missing file is stale, not an error.
pub fn is_up_to_date(output: &Path, sdl: &str) -> Result<bool, std::io::Error> {
    match std::fs::read_to_string(output) {
        Ok(current) => Ok(current == sdl),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interpolates_variables_and_defaults() {
        let lookup = |name: &str| (name == "SET").then(|| "value".to_owned());
        assert_eq!(interpolate("a ${SET} b", lookup).unwrap(), "a value b");
        assert_eq!(
            interpolate("${UNSET:-http://x:1/g}", lookup).unwrap(),
            "http://x:1/g"
        );
        assert!(matches!(
            interpolate("${UNSET}", lookup),
            Err(ComposeError::MissingVariable(name)) if name == "UNSET"
        ));
        assert_eq!(
            interpolate("no vars, ${ unterminated", lookup).unwrap(),
            "no vars, ${ unterminated"
        );
    }

    #[test]
    fn api_schema_leaves_out_federation_and_inaccessible_parts() {
        let subgraph = SubgraphSdl {
            name: "things".to_owned(),
            url: "http://things/graphql".to_owned(),
            sdl: r#"extend schema @link(url: "https://specs.apollo.dev/federation/v2.5", import: ["@key", "@inaccessible"])
type Query { thing(id: ID!): Thing }
type Thing @key(fields: "id") { id: ID! secret: String @inaccessible visible: String }
"#
            .to_owned(),
        };
        let supergraph = composition::compose(&[subgraph]).unwrap().sdl;
        assert!(supergraph.contains("secret") && supergraph.contains("join__"));
        let api = api_schema(&supergraph).unwrap();
        assert!(api.contains("visible: String"), "{api}");
        for hidden in [
            "secret",
            "join__",
            "link__",
            "_Entity",
            "_Any",
            "_service",
            "@key",
            "directive @skip",
            "scalar Boolean",
        ] {
            assert!(!api.contains(hidden), "{hidden} in:\n{api}");
        }
    }

    #[test]
    fn write_then_check() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("schema/supergraph.graphql");
        assert!(!is_up_to_date(&out, "type Query { a: Int }").unwrap());
        write_supergraph(&out, "type Query { a: Int }").unwrap();
        assert!(is_up_to_date(&out, "type Query { a: Int }").unwrap());
        assert!(!is_up_to_date(&out, "type Query { b: Int }").unwrap());
        assert!(!dir.path().join("schema/supergraph.graphql.tmp").exists());
    }

    #[test]
    fn parses_both_schema_sources() {
        let file: SupergraphFile = serde_yaml_ng::from_str(
            "subgraphs:\n  a:\n    routing_url: http://a/graphql\n    schema:\n      file: a.graphql\n  b:\n    routing_url: http://b/graphql\n    schema:\n      subgraph_url: http://b/graphql\n",
        )
        .unwrap();
        assert_eq!(
            file.subgraphs["a"].schema.file.as_deref(),
            Some(Path::new("a.graphql"))
        );
        assert_eq!(
            file.subgraphs["b"].schema.subgraph_url.as_deref(),
            Some("http://b/graphql")
        );
    }
}

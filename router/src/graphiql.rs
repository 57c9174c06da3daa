//! GraphiQL, the in-browser IDE, at `/` and `/graphiql` (and at `GET /graphql` for a
//! browser asking for HTML).
//!
//! The page loads React and GraphiQL from `graphiql.assets_dir` when
//! `router/graphiql/install.sh` has put them there (served under `/graphiql/assets/`), so
//! it works offline; otherwise from a public CDN. Docs come from introspection of the
//! supergraph, so they are available wherever introspection is enabled. A few example
//! operations (from `router/graphiql/examples/`) open as tabs.

use std::path::{Path, PathBuf};

use serde_json::json;

/// Files the page needs from the assets folder.
const ASSET_FILES: [&str; 4] = [
    "react.production.min.js",
    "react-dom.production.min.js",
    "graphiql.min.js",
    "graphiql.min.css",
];

const CDN: [&str; 4] = [
    "https://unpkg.com/react@18.3.1/umd/react.production.min.js",
    "https://unpkg.com/react-dom@18.3.1/umd/react-dom.production.min.js",
    "https://unpkg.com/graphiql@3.9.0/graphiql.min.js",
    "https://unpkg.com/graphiql@3.9.0/graphiql.min.css",
];

/// The URL prefix local assets are served under.
pub const ASSETS_ROUTE: &str = "/graphiql/assets";

const EXAMPLES: [&str; 3] = [
    include_str!("../graphiql/examples/01-register-and-login.graphql"),
    include_str!("../graphiql/examples/02-products.graphql"),
    include_str!("../graphiql/examples/03-my-orders.graphql"),
];

/// Where the page's scripts come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AssetSource {
    /// Served by the router from this folder.
    Local(PathBuf),
    Cdn,
}

/// The rendered page and where its assets come from.
#[derive(Debug, Clone)]
pub struct GraphiqlPage {
    pub html: String,
    pub source: AssetSource,
}

impl GraphiqlPage {
    /// Renders the page, preferring local assets when all of them are present.
    pub fn new(assets_dir: &Path) -> Self {
        let local = ASSET_FILES.iter().all(|f| assets_dir.join(f).is_file());
        let (urls, source) = if local {
            let urls = ASSET_FILES.map(|f| format!("{ASSETS_ROUTE}/{f}"));
            (urls, AssetSource::Local(assets_dir.to_owned()))
        } else {
            (CDN.map(str::to_owned), AssetSource::Cdn)
        };
        Self {
            html: render(&urls),
            source,
        }
    }
}

fn render(urls: &[String; 4]) -> String {
    let tabs: Vec<_> = EXAMPLES.iter().map(|q| json!({ "query": q })).collect();
    // `<` is escaped so no example text can close the script element.
    let tabs = serde_json::to_string(&tabs)
        .unwrap_or_else(|_| "[]".to_owned())
        .replace('<', "\\u003c");
    let [react, react_dom, graphiql_js, graphiql_css] = urls;
    format!(
        r#"<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>Commerce GraphQL</title>
  <style>body {{ margin: 0; height: 100vh; }} #graphiql {{ height: 100vh; }}</style>
  <link rel="stylesheet" href="{graphiql_css}">
  <script crossorigin src="{react}"></script>
  <script crossorigin src="{react_dom}"></script>
  <script crossorigin src="{graphiql_js}"></script>
</head>
<body>
  <div id="graphiql">Loading GraphiQL…</div>
  <script>
    const fetcher = GraphiQL.createFetcher({{ url: window.location.origin + '/graphql' }});
    const defaultTabs = {tabs};
    ReactDOM.createRoot(document.getElementById('graphiql')).render(
      React.createElement(GraphiQL, {{
        fetcher,
        defaultTabs,
        defaultEditorToolsVisibility: true,
        shouldPersistHeaders: false,
      }}),
    );
  </script>
</body>
</html>
"#
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn falls_back_to_the_cdn_without_local_assets() {
        let dir = tempfile::tempdir().unwrap();
        let page = GraphiqlPage::new(dir.path());
        assert_eq!(page.source, AssetSource::Cdn);
        assert!(
            page.html
                .contains("https://unpkg.com/graphiql@3.9.0/graphiql.min.js")
        );
    }

    #[test]
    fn prefers_complete_local_assets() {
        let dir = tempfile::tempdir().unwrap();
        for f in ASSET_FILES {
            std::fs::write(dir.path().join(f), "").unwrap();
        }
        let page = GraphiqlPage::new(dir.path());
        assert_eq!(page.source, AssetSource::Local(dir.path().to_owned()));
        assert!(page.html.contains("/graphiql/assets/graphiql.min.js"));
        assert!(!page.html.contains("unpkg"));
    }

    #[test]
    fn examples_are_prefilled_and_script_safe() {
        let page = GraphiqlPage::new(Path::new("/nonexistent"));
        assert!(page.html.contains("mutation Register"));
        assert!(page.html.contains("query MyOrders"));
        assert_eq!(page.html.matches("</script>").count(), 4);
    }
}

//! Load generation with `wrk` (from the distribution's packages): a closed loop of
//! `concurrency` connections on one thread for a fixed time.
//!
//! A Lua script of ours sets the request and counts as an error every response that is not
//! 200 or whose body carries GraphQL `errors`, so a fast stream of failures never passes for
//! throughput. wrk's own summary (requests, duration, latency percentiles, socket errors)
//! comes back as one JSON line.

use std::{path::Path, process::Stdio, time::Duration};

use anyhow::{Context as _, bail};
use serde_json::Value;

/// One HTTP request, repeated.
#[derive(Debug, Clone)]
pub struct Request {
    pub url: String,
    pub body: String,
    /// The `Authorization` header value, if any.
    pub authorization: Option<String>,
}

#[derive(Debug, Clone, Copy, Default)]
pub struct Outcome {
    pub requests: u64,
    pub elapsed: Duration,
    pub p50: Duration,
    pub p99: Duration,
    pub errors: u64,
}

impl Outcome {
    pub fn per_second(&self) -> f64 {
        self.requests as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

fn lua_long_string(text: &str) -> String {
    // A long bracket with enough `=` that the text cannot close it.
    let mut level = 0;
    while text.contains(&format!("]{}]", "=".repeat(level))) {
        level += 1;
    }
    let eq = "=".repeat(level);
    format!("[{eq}[{text}]{eq}]")
}

fn script(request: &Request) -> String {
    let auth = request
        .authorization
        .as_deref()
        .map(|a| format!("wrk.headers[\"Authorization\"] = {}\n", lua_long_string(a)))
        .unwrap_or_default();
    format!(
        r#"wrk.method = "POST"
wrk.body = {body}
wrk.headers["Content-Type"] = "application/json"
{auth}
local threads = {{}}
function setup(thread) table.insert(threads, thread) end
function init(args) failures = 0 end
function response(status, headers, body)
  if status ~= 200 or string.find(body, '"errors"', 1, true) then failures = failures + 1 end
end
function done(summary, latency, requests)
  local failed = 0
  for _, t in ipairs(threads) do failed = failed + t:get("failures") end
  local e = summary.errors
  io.write(string.format('BENCH {{"requests":%d,"duration_us":%d,"p50_us":%d,"p99_us":%d,"failed":%d,"socket_errors":%d}}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99), failed,
    e.connect + e.read + e.write + e.timeout))
end
"#,
        body = lua_long_string(&request.body),
    )
}

/// Runs wrk against `request` for `duration` with `concurrency` connections.
pub async fn run(
    request: &Request,
    concurrency: usize,
    duration: Duration,
    dir: &Path,
) -> anyhow::Result<Outcome> {
    let path = dir.join("request.lua");
    std::fs::write(&path, script(request))?;
    let output = tokio::process::Command::new("wrk")
        .args([
            "-t1",
            "-c",
            &concurrency.to_string(),
            "-d",
            &format!("{}s", duration.as_secs().max(1)),
            "--timeout",
            "30s",
            "-s",
        ])
        .arg(&path)
        .arg(&request.url)
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .output()
        .await
        .context("running wrk (install it with `apt-get install wrk`)")?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        bail!(
            "wrk failed: {}{}",
            stdout,
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let line = stdout
        .lines()
        .find_map(|l| l.strip_prefix("BENCH "))
        .with_context(|| format!("no summary from wrk:\n{stdout}"))?;
    let v: Value = serde_json::from_str(line)?;
    let n = |key: &str| v[key].as_u64().unwrap_or(0);
    Ok(Outcome {
        requests: n("requests"),
        elapsed: Duration::from_micros(n("duration_us")),
        p50: Duration::from_micros(n("p50_us")),
        p99: Duration::from_micros(n("p99_us")),
        errors: n("failed") + n("socket_errors"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_strings_cannot_be_closed_by_their_text() {
        assert_eq!(lua_long_string("{\"a\":1}"), "[[{\"a\":1}]]");
        assert_eq!(lua_long_string("x]]y"), "[=[x]]y]=]");
        assert_eq!(lua_long_string("x]]y]=]z"), "[==[x]]y]=]z]==]");
    }
}

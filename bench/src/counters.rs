//! What the services count about themselves, read from their `/metrics` before and after a
//! load: subgraph fetches made by the router, SQL statements run by products and orders,
//! commands sent to MongoDB by users, and every process's CPU time.

use anyhow::Context as _;

use crate::system::System;

/// The sum of every sample of `name` (all label sets) in an OpenMetrics text.
pub fn sum(text: &str, name: &str) -> f64 {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| {
            let (series, value) = l.rsplit_once(' ')?;
            let metric = series.split('{').next()?;
            (metric == name)
                .then(|| value.parse::<f64>().ok())
                .flatten()
        })
        .sum()
}

async fn scrape(http: &reqwest::Client, base: &str) -> anyhow::Result<String> {
    let url = format!("{base}/metrics");
    http.get(&url)
        .send()
        .await
        .with_context(|| format!("scraping {url}"))?
        .text()
        .await
        .map_err(Into::into)
}

/// Every counter: either one reading, or what changed between two (see [`Snapshot::delta`]).
#[derive(Debug, Clone, Copy, Default)]
pub struct Snapshot {
    pub router_cpu_us: u64,
    /// products, orders, payments, users (the order of [`System::subgraphs`]).
    pub subgraph_cpu_us: [u64; 4],
    pub fetches: f64,
    pub dedup_hits: f64,
    pub sql: f64,
    pub mongo: f64,
}

impl Snapshot {
    pub async fn take(http: &reqwest::Client, system: &System) -> anyhow::Result<Self> {
        let router = system.router()?;
        let router_text = scrape(http, &router.metrics_base_url()).await?;
        let products = scrape(http, &system.products.metrics_base_url()).await?;
        let orders = scrape(http, &system.orders.metrics_base_url()).await?;
        let users = scrape(http, &system.users.metrics_base_url()).await?;
        let subgraphs = system.subgraphs();
        let mut subgraph_cpu_us = [0; 4];
        for (slot, service) in subgraph_cpu_us.iter_mut().zip(subgraphs) {
            *slot = service.cpu_micros()?;
        }
        Ok(Self {
            router_cpu_us: router.cpu_micros()?,
            subgraph_cpu_us,
            fetches: sum(
                &router_text,
                "router_subgraph_request_duration_seconds_count",
            ),
            dedup_hits: sum(&router_text, "router_dedup_hits_total"),
            sql: sum(&products, "products_db_statements_total")
                + sum(&orders, "orders_db_statements_total"),
            mongo: sum(&users, "users_db_commands_total"),
        })
    }

    /// What happened between `self` (before) and `after`.
    pub fn delta(&self, after: &Self) -> Self {
        let mut subgraph_cpu_us = [0; 4];
        for (i, slot) in subgraph_cpu_us.iter_mut().enumerate() {
            *slot = after.subgraph_cpu_us[i].saturating_sub(self.subgraph_cpu_us[i]);
        }
        Self {
            router_cpu_us: after.router_cpu_us.saturating_sub(self.router_cpu_us),
            subgraph_cpu_us,
            fetches: after.fetches - self.fetches,
            dedup_hits: after.dedup_hits - self.dedup_hits,
            sql: after.sql - self.sql,
            mongo: after.mongo - self.mongo,
        }
    }

    pub fn subgraphs_cpu_us(&self) -> u64 {
        self.subgraph_cpu_us.iter().sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sums_every_label_set_of_one_metric_only() {
        let text = "# TYPE x counter\n\
            router_subgraph_request_duration_seconds_count{subgraph=\"products\"} 12\n\
            router_subgraph_request_duration_seconds_count{subgraph=\"orders\"} 3\n\
            router_subgraph_request_duration_seconds_sum{subgraph=\"orders\"} 0.5\n\
            products_db_statements_total 40\n# EOF\n";
        assert_eq!(
            sum(text, "router_subgraph_request_duration_seconds_count"),
            15.0
        );
        assert_eq!(sum(text, "products_db_statements_total"), 40.0);
        assert_eq!(sum(text, "missing_total"), 0.0);
    }
}

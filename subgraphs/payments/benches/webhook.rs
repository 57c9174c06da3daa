//! Webhook throughput: signed Stripe events posted over HTTP to a running payments service
//! on PostgreSQL and NATS, reported as requests per second (criterion's elements/s).
//!
//! - `new_event`: a distinct, correctly signed `checkout.session.completed` each time; the
//!   full transaction runs (event id recorded, payment row locked, outcome stored).
//! - `new_event_16_concurrent`: the same with sixteen requests in flight (for sixteen
//!   payments); throughput counts requests.
//! - `redelivery`: the same event again; verified, found to be a duplicate, acknowledged.
//! - `bad_signature`: rejected before any database work.

#[path = "../tests/support/mod.rs"]
mod support;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use support::*;
use uuid::Uuid;

fn webhook(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let (app, order_id, payment_id, session_id) = rt.block_on(async {
        let app = spawn_app().await;
        let user = Uuid::now_v7();
        let order = app.orders.add_order(user);
        let (payment_id, session_id) = app.checkout_ok(&order).await;
        (app, order.order_id, payment_id, session_id)
    });
    let url = format!("http://{}/webhooks/stripe", app.addr);
    let http = reqwest::Client::new();
    let post = |body: String, signature: String| {
        let req = http
            .post(&url)
            .header("stripe-signature", signature)
            .body(body);
        async move {
            let resp = req.send().await.expect("the webhook answers");
            resp.status().as_u16()
        }
    };

    let mut group = c.benchmark_group("webhook");
    group.throughput(Throughput::Elements(1));

    group.bench_function("new_event", |b| {
        b.to_async(&rt).iter(|| {
            let event = session_event(
                "checkout.session.completed",
                &session_id,
                order_id,
                payment_id,
                4498,
                "eur",
            );
            let body = event.to_string();
            let signature = sign(&body, WEBHOOK_SECRET, chrono::Utc::now().timestamp());
            let sent = post(body, signature);
            async move { assert_eq!(sent.await, 200) }
        })
    });

    // Sixteen deliveries in flight at once, as Stripe sends them in bursts; each is a new
    // event for a payment of its own, so they do not queue on one row lock.
    const CONCURRENT: usize = 16;
    let targets: Vec<(Uuid, Uuid, String)> = rt.block_on(async {
        let mut targets = Vec::new();
        for _ in 0..CONCURRENT {
            let order = app.orders.add_order(Uuid::now_v7());
            let (payment_id, session_id) = app.checkout_ok(&order).await;
            targets.push((order.order_id, payment_id, session_id));
        }
        targets
    });
    group.throughput(Throughput::Elements(CONCURRENT as u64));
    group.bench_function("new_event_16_concurrent", |b| {
        b.to_async(&rt).iter(|| {
            let sends: Vec<_> = targets
                .iter()
                .map(|(order_id, payment_id, session_id)| {
                    let event = session_event(
                        "checkout.session.completed",
                        session_id,
                        *order_id,
                        *payment_id,
                        4498,
                        "eur",
                    );
                    let body = event.to_string();
                    let signature = sign(&body, WEBHOOK_SECRET, chrono::Utc::now().timestamp());
                    post(body, signature)
                })
                .collect();
            async move {
                for status in futures::future::join_all(sends).await {
                    assert_eq!(status, 200);
                }
            }
        })
    });
    group.throughput(Throughput::Elements(1));

    let repeated = session_event(
        "checkout.session.completed",
        &session_id,
        order_id,
        payment_id,
        4498,
        "eur",
    )
    .to_string();
    group.bench_function("redelivery", |b| {
        b.to_async(&rt).iter(|| {
            let signature = sign(&repeated, WEBHOOK_SECRET, chrono::Utc::now().timestamp());
            let sent = post(repeated.clone(), signature);
            async move { assert_eq!(sent.await, 200) }
        })
    });

    group.bench_function("bad_signature", |b| {
        b.to_async(&rt).iter(|| {
            let signature = sign(&repeated, "whsec_wrong", chrono::Utc::now().timestamp());
            let sent = post(repeated.clone(), signature);
            async move { assert_eq!(sent.await, 400) }
        })
    });
    group.finish();

    rt.block_on(async move {
        let mut app = app;
        app.stop().await;
    });
}

criterion_group!(benches, webhook);
criterion_main!(benches);

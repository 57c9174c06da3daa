//! What the service writes to its log: amount mismatches are reported, secrets never are.

mod support;

use std::sync::{Arc, Mutex};

use support::*;
use tracing_subscriber::fmt::MakeWriter;
use uuid::Uuid;

/// Collects everything logged on this test's thread.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Captured {
    type Writer = Captured;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

impl Captured {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

// A current-thread runtime runs the service's tasks on this thread, so a thread-local
// subscriber sees everything it logs.
#[tokio::test(flavor = "current_thread")]
async fn an_amount_mismatch_is_logged_and_no_secret_ever_is() {
    let captured = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(captured.clone())
        .with_ansi(false)
        .with_max_level(tracing::Level::DEBUG)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let app = spawn_app().await;
    let user = Uuid::now_v7();
    let order = app.orders.add_order(user);
    let (payment_id, session_id) = app.checkout_ok(&order).await;

    let short = session_event(
        "checkout.session.completed",
        &session_id,
        order.order_id,
        payment_id,
        100,
        "eur",
    );
    assert_eq!(app.deliver(&short).await.0, 200);
    let body = short.to_string();
    let forged = sign(
        &body,
        "whsec_forged_by_someone",
        chrono::Utc::now().timestamp(),
    );
    assert_eq!(app.post_webhook(&body, Some(&forged)).await.0, 400);

    let log = captured.text();
    let mismatch = log
        .lines()
        .find(|l| l.contains("payment amount mismatch"))
        .unwrap_or_else(|| panic!("no mismatch line in:\n{log}"));
    assert!(
        mismatch.contains(&payment_id.to_string()) && mismatch.contains("4498"),
        "{mismatch}"
    );
    assert!(log.contains("webhook rejected"), "the rejection is logged");
    for secret in [
        WEBHOOK_SECRET,
        OLD_WEBHOOK_SECRET,
        "sk_test_payments_suite",
        &forged[forged.len() - 64..],
    ] {
        assert!(
            !log.contains(secret),
            "a secret or signature reached the log"
        );
    }
}

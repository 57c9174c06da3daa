//! The event bus between services: durable events, request/reply, and durable consumers.
//!
//! [`EventBus`] is what services code against. [`NatsBus`] is the production implementation
//! on NATS JetStream; [`InProcessBus`] serves the same contract inside one process for the
//! embedded mode. Events are published with their `event_id` as `Nats-Msg-Id`, so a
//! re-publish after a crash is dropped by JetStream's duplicate window; consumers must still
//! be idempotent (see [`crate::outbox::mark_processed`]) because a redelivery after an ack
//! was lost is not a duplicate to JetStream.
//!
//! Request subjects live under `rpc.` so that they never fall into the event stream, whose
//! subjects are `<domain>.<event>` for the domains in [`EVENT_DOMAINS`].
//!
//! Every consumer has a finite delivery budget ([`DeliveryPolicy`]): a handler that fails
//! is retried after a growing delay up to `max_attempts` times (JetStream's `max_deliver`
//! holds the same bound, with a few deliveries more to park the event, and its `backoff`
//! spaces redeliveries of events whose handler hung). What exhausts the budget, or can
//! never be handled ([`HandlerError::Unprocessable`]), is parked by
//! [`crate::parking::ParkingLot`]: copied to the dead-letter stream ([`EventBus::dead_letter`])
//! and recorded in the service's database, so it neither blocks the events behind it nor
//! disappears.

use std::{
    collections::{HashMap, HashSet},
    sync::{Arc, Mutex},
    time::Duration,
};

use async_trait::async_trait;
use bytes::Bytes;
use futures::{StreamExt, future::BoxFuture};
use serde::{Serialize, de::DeserializeOwned};
use tokio::task::JoinHandle;
use uuid::Uuid;

/// The domains whose events the stream keeps: `orders.created`, `payments.succeeded`, ...
pub const EVENT_DOMAINS: &[&str] = &["orders", "payments", "products", "users"];

/// The first token of dead-letter subjects (`dead.<consumer>`), kept in a stream of their own.
pub const DEAD_LETTER_DOMAIN: &str = "dead";

/// Headers of a dead-letter message: the original subject, why it was parked, and by whom.
pub const DEAD_LETTER_SUBJECT_HEADER: &str = "Commerce-Dead-Letter-Subject";
pub const DEAD_LETTER_REASON_HEADER: &str = "Commerce-Dead-Letter-Reason";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BusError {
    #[error("the event bus is unavailable: {0}")]
    Unavailable(String),
    #[error("no service answered on {0}")]
    NoResponders(String),
    #[error("the request on {0} timed out")]
    Timeout(String),
    #[error("a message could not be decoded: {0}")]
    Decode(String),
}

impl From<BusError> for crate::ApiError {
    fn from(err: BusError) -> Self {
        match err {
            BusError::Decode(detail) => crate::ApiError::internal(detail),
            other => {
                tracing::warn!(error = %other, "bus call failed");
                crate::ApiError::unavailable(
                    "a service this operation depends on is unavailable; try again shortly",
                )
            }
        }
    }
}

/// One event handed to a consumer.
#[derive(Debug, Clone)]
pub struct Delivery {
    /// The subject without the bus prefix, e.g. `payments.succeeded`.
    pub subject: String,
    pub payload: Bytes,
    /// 1 on first delivery, more on redelivery.
    pub attempt: u64,
}

/// Why a consumer could not handle an event.
#[derive(Debug, thiserror::Error)]
pub enum HandlerError {
    /// It may work later (the database was busy): delivered again after a delay, until the
    /// delivery budget is spent.
    #[error("{0}")]
    Retry(String),
    /// It can never work (unreadable, an unknown version): parked at once.
    #[error("{0}")]
    Unprocessable(String),
}

/// How often, and how far apart, an event is delivered to a handler that fails.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryPolicy {
    /// Deliveries to the handler before the event is parked.
    pub max_attempts: u32,
    /// The delay after the n-th failed attempt (the last one repeats).
    pub retry_delays: Vec<Duration>,
    /// Redelivery delays when a handler neither acknowledges nor fails (it hung or its
    /// process died); the first is also how long a delivery may take.
    pub ack_timeouts: Vec<Duration>,
}

impl DeliveryPolicy {
    /// Deliveries JetStream makes beyond `max_attempts`, in which only parking is tried
    /// (when parking itself failed on the last attempt).
    pub const PARKING_DELIVERIES: u32 = 5;

    /// The delay after the `attempt`-th failure.
    pub fn retry_delay(&self, attempt: u64) -> Duration {
        let index = usize::try_from(attempt.saturating_sub(1)).unwrap_or(usize::MAX);
        self.retry_delays
            .get(index)
            .or(self.retry_delays.last())
            .copied()
            .unwrap_or(Duration::from_secs(1))
    }

    /// JetStream's `max_deliver` for this policy.
    pub fn max_deliver(&self) -> i64 {
        i64::from(self.max_attempts.saturating_add(Self::PARKING_DELIVERIES))
    }
}

impl Default for DeliveryPolicy {
    /// Ten attempts over about five minutes (1 s doubling up to a minute), then parked.
    fn default() -> Self {
        Self {
            max_attempts: 10,
            retry_delays: (1..=10).map(redelivery_delay).collect(),
            ack_timeouts: vec![
                Duration::from_secs(30),
                Duration::from_secs(60),
                Duration::from_secs(120),
            ],
        }
    }
}

pub type EventHandler =
    Arc<dyn Fn(Delivery) -> BoxFuture<'static, Result<(), HandlerError>> + Send + Sync>;
pub type RequestHandler = Arc<dyn Fn(Bytes) -> BoxFuture<'static, Bytes> + Send + Sync>;

/// A durable consumer: its name (shared by all replicas, so each event goes to one of them)
/// and the subjects it reads.
#[derive(Debug, Clone)]
pub struct ConsumerSpec {
    pub durable: String,
    pub subjects: Vec<String>,
}

/// A background task of the bus (a consumer or a responder); stops when dropped.
#[derive(Debug)]
pub struct Worker(JoinHandle<()>);

impl Drop for Worker {
    fn drop(&mut self) {
        self.0.abort();
    }
}

#[async_trait]
pub trait EventBus: Send + Sync + 'static {
    /// Publishes an event durably; returns once the bus has stored it.
    async fn publish(&self, subject: &str, event_id: Uuid, payload: Bytes) -> Result<(), BusError>;
    /// Sends a request and waits at most `timeout` for the reply.
    async fn request(
        &self,
        subject: &str,
        payload: Bytes,
        timeout: Duration,
    ) -> Result<Bytes, BusError>;
    /// Answers requests on `subject`; replicas share the load.
    async fn serve(&self, subject: &str, handler: RequestHandler) -> Result<Worker, BusError>;
    /// Runs `handler` for every event on the spec's subjects, at least once each, redelivering
    /// (with a growing delay) while the handler fails, within [`EventBus::delivery_policy`].
    async fn consume(&self, spec: ConsumerSpec, handler: EventHandler) -> Result<Worker, BusError>;
    /// The delivery budget of this bus's consumers.
    fn delivery_policy(&self) -> DeliveryPolicy {
        DeliveryPolicy::default()
    }
    /// Copies an event `consumer` gave up on to the dead-letter stream, with the reason.
    /// Without one (the in-process bus) the database record is the only copy.
    async fn dead_letter(
        &self,
        consumer: &str,
        delivery: &Delivery,
        reason: &str,
    ) -> Result<(), BusError> {
        let _ = (consumer, delivery, reason);
        Ok(())
    }
    /// Whether the bus is reachable now (readiness).
    async fn ping(&self) -> Result<(), BusError>;
    /// `"nats"` or `"in-process"`, for start-up logs.
    fn kind(&self) -> &'static str;
}

/// Sends `req` as JSON and decodes the JSON reply.
pub async fn request_json<Req, Resp>(
    bus: &dyn EventBus,
    subject: &str,
    req: &Req,
    timeout: Duration,
) -> Result<Resp, BusError>
where
    Req: Serialize + ?Sized,
    Resp: DeserializeOwned,
{
    let payload = serde_json::to_vec(req).map_err(|e| BusError::Decode(e.to_string()))?;
    let reply = bus.request(subject, payload.into(), timeout).await?;
    serde_json::from_slice(&reply).map_err(|e| BusError::Decode(e.to_string()))
}

/// Wraps a typed async function as a [`RequestHandler`] speaking JSON. A request that does
/// not decode is answered with `on_bad_request`'s reply.
pub fn json_handler<Req, Resp, F, Fut>(f: F, on_bad_request: fn(String) -> Resp) -> RequestHandler
where
    Req: DeserializeOwned + Send + 'static,
    Resp: Serialize + Send + 'static,
    F: Fn(Req) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = Resp> + Send + 'static,
{
    let f = Arc::new(f);
    Arc::new(move |payload: Bytes| {
        let f = f.clone();
        Box::pin(async move {
            let resp = match serde_json::from_slice::<Req>(&payload) {
                Ok(req) => f(req).await,
                Err(e) => on_bad_request(e.to_string()),
            };
            serde_json::to_vec(&resp)
                .map(Bytes::from)
                .unwrap_or_default()
        })
    })
}

/// Lower-case hex of `bytes`.
pub(crate) fn hex_digest(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Redelivery delay after the `attempt`-th failure: 1 s doubling up to a minute.
fn redelivery_delay(attempt: u64) -> Duration {
    Duration::from_secs(1u64 << attempt.saturating_sub(1).min(6)).min(Duration::from_secs(60))
}

/// `url` without the password, for messages.
pub fn redact_url(url: &str) -> String {
    match url.split_once("://") {
        Some((scheme, rest)) => match rest.split_once('@') {
            Some((userinfo, host)) => {
                let user = userinfo.split(':').next().unwrap_or_default();
                format!("{scheme}://{user}:[redacted]@{host}")
            }
            None => url.to_owned(),
        },
        None => url.to_owned(),
    }
}

/// NATS subject matching with `*` (one token) and `>` (the rest).
pub fn subject_matches(pattern: &str, subject: &str) -> bool {
    let mut p = pattern.split('.');
    let mut s = subject.split('.');
    loop {
        match (p.next(), s.next()) {
            (Some(">"), Some(_)) => return true,
            (Some("*"), Some(_)) => {}
            (Some(a), Some(b)) if a == b => {}
            (None, None) => return true,
            _ => return false,
        }
    }
}

// ---------------------------------------------------------------------------------------
// NATS JetStream

/// The production bus.
#[derive(Clone)]
pub struct NatsBus {
    client: async_nats::Client,
    js: async_nats::jetstream::Context,
    prefix: String,
    stream: String,
    dead_letters: String,
    delivery: DeliveryPolicy,
}

impl std::fmt::Debug for NatsBus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NatsBus")
            .field("prefix", &self.prefix)
            .field("stream", &self.stream)
            .finish()
    }
}

impl NatsBus {
    /// How long JetStream keeps duplicates of a `Nats-Msg-Id` in mind.
    pub const DUPLICATE_WINDOW: Duration = Duration::from_secs(3600);

    /// Connects and makes sure the event stream exists. `prefix` ("" in production) namespaces
    /// subjects and the stream, so tests can share one server without seeing each other.
    ///
    /// Credentials in the URL (`nats://user:password@host:4222`, one NATS user per service)
    /// are used to log in and never appear in errors or logs.
    pub async fn connect(url: &str, prefix: &str) -> Result<Self, BusError> {
        let addr: async_nats::ServerAddr = url.parse().map_err(|_| {
            BusError::Unavailable(format!("`{}` is not a NATS URL", redact_url(url)))
        })?;
        let mut options = async_nats::ConnectOptions::new()
            .connection_timeout(Duration::from_secs(5))
            .retry_on_initial_connect()
            .max_reconnects(None);
        if let (Some(user), Some(password)) = (addr.username(), addr.password()) {
            options = options.user_and_password(user.to_owned(), password.to_owned());
        }
        let url = &redact_url(url);
        let client = options
            .connect(addr)
            .await
            .map_err(|e| BusError::Unavailable(e.to_string()))?;
        // `retry_on_initial_connect` returns before the first connection; wait for it briefly
        // so start-up fails loudly when NATS is not there at all.
        let bus = Self::with_client(client, prefix);
        tokio::time::timeout(Duration::from_secs(5), bus.client.flush())
            .await
            .map_err(|_| BusError::Unavailable(format!("cannot reach NATS at {url}")))?
            .map_err(|e| BusError::Unavailable(e.to_string()))?;
        bus.ensure_stream().await?;
        Ok(bus)
    }

    fn with_client(client: async_nats::Client, prefix: &str) -> Self {
        let mut js = async_nats::jetstream::new(client.clone());
        js.set_timeout(Duration::from_secs(5));
        let (stream, dead_letters) = if prefix.is_empty() {
            ("EVENTS".to_owned(), "DEAD_LETTERS".to_owned())
        } else {
            let upper = prefix.to_ascii_uppercase().replace('-', "_");
            (format!("{upper}_EVENTS"), format!("{upper}_DEAD_LETTERS"))
        };
        Self {
            client,
            js,
            prefix: prefix.to_owned(),
            stream,
            dead_letters,
            delivery: DeliveryPolicy::default(),
        }
    }

    /// Changes the delivery budget of consumers started afterwards (tests use short ones).
    pub fn with_delivery_policy(mut self, policy: DeliveryPolicy) -> Self {
        self.delivery = policy;
        self
    }

    /// The dead-letter stream's name.
    pub fn dead_letter_stream(&self) -> &str {
        &self.dead_letters
    }

    /// The subject parked events of `consumer` are copied to.
    pub fn dead_letter_subject(&self, consumer: &str) -> String {
        self.full(&format!("{DEAD_LETTER_DOMAIN}.{consumer}"))
    }

    fn full(&self, subject: &str) -> String {
        if self.prefix.is_empty() {
            subject.to_owned()
        } else {
            format!("{}.{subject}", self.prefix)
        }
    }

    fn strip<'a>(&self, subject: &'a str) -> &'a str {
        if self.prefix.is_empty() {
            subject
        } else {
            subject
                .strip_prefix(&self.prefix)
                .and_then(|s| s.strip_prefix('.'))
                .unwrap_or(subject)
        }
    }

    pub fn stream_name(&self) -> &str {
        &self.stream
    }

    async fn ensure_stream(&self) -> Result<(), BusError> {
        use async_nats::jetstream::stream;
        let subjects = EVENT_DOMAINS
            .iter()
            .map(|d| self.full(&format!("{d}.>")))
            .collect();
        self.js
            .get_or_create_stream(stream::Config {
                name: self.stream.clone(),
                subjects,
                storage: stream::StorageType::File,
                retention: stream::RetentionPolicy::Limits,
                max_age: Duration::from_secs(14 * 86_400),
                duplicate_window: Self::DUPLICATE_WINDOW,
                ..Default::default()
            })
            .await
            .map_err(|e| BusError::Unavailable(e.to_string()))?;
        // Parked events are kept until someone deals with them; the database table says
        // which were replayed.
        self.js
            .get_or_create_stream(stream::Config {
                name: self.dead_letters.clone(),
                subjects: vec![self.full(&format!("{DEAD_LETTER_DOMAIN}.>"))],
                storage: stream::StorageType::File,
                retention: stream::RetentionPolicy::Limits,
                max_age: Duration::from_secs(90 * 86_400),
                duplicate_window: Self::DUPLICATE_WINDOW,
                ..Default::default()
            })
            .await
            .map_err(|e| BusError::Unavailable(e.to_string()))?;
        Ok(())
    }

    /// Removes the stream and its consumers (tests clean up after themselves with it).
    pub async fn delete_stream(&self) -> Result<(), BusError> {
        self.js
            .delete_stream(&self.stream)
            .await
            .map_err(|e| BusError::Unavailable(e.to_string()))?;
        let _ = self.js.delete_stream(&self.dead_letters).await;
        Ok(())
    }

    async fn run_consumer(
        js: async_nats::jetstream::Context,
        stream: String,
        bus: NatsBus,
        spec: ConsumerSpec,
        handler: EventHandler,
    ) {
        use async_nats::jetstream::{AckKind, consumer::pull};
        loop {
            let consumer = async {
                let s = js.get_stream(&stream).await.map_err(|e| e.to_string())?;
                let config = pull::Config {
                        durable_name: Some(spec.durable.clone()),
                        // NATS servers before 2.10 ignore `filter_subjects`; a single subject
                        // goes in the field every server understands.
                        filter_subject: if spec.subjects.len() == 1 { bus.full(&spec.subjects[0]) } else { String::new() },
                        filter_subjects: if spec.subjects.len() == 1 {
                            Vec::new()
                        } else {
                            spec.subjects.iter().map(|s| bus.full(s)).collect()
                        },
                        ack_policy: async_nats::jetstream::consumer::AckPolicy::Explicit,
                        ack_wait: bus.delivery.ack_timeouts.first().copied().unwrap_or(Duration::from_secs(30)),
                        max_deliver: bus.delivery.max_deliver(),
                        backoff: bus.delivery.ack_timeouts.clone(),
                        ..Default::default()
                    };
                // Creating with the current settings also updates a consumer made by an
                // older version (which redelivered forever).
                match s.create_consumer(config.clone()).await {
                    Ok(consumer) => Ok(consumer),
                    Err(e) => {
                        tracing::warn!(durable = %spec.durable, error = %e, "consumer settings not updated; using the existing consumer");
                        s.get_consumer::<pull::Config>(&spec.durable).await.map_err(|e| e.to_string())
                    }
                }
            }
            .await;
            let consumer = match consumer {
                Ok(c) => c,
                Err(e) => {
                    tracing::warn!(durable = %spec.durable, error = %e, "consumer not ready; retrying");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    continue;
                }
            };
            let mut messages = match consumer.messages().await {
                Ok(m) => m,
                Err(e) => {
                    tracing::warn!(durable = %spec.durable, error = %e, "cannot pull messages; retrying");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    continue;
                }
            };
            while let Some(next) = messages.next().await {
                let msg = match next {
                    Ok(m) => m,
                    Err(e) => {
                        tracing::warn!(durable = %spec.durable, error = %e, "pull failed");
                        break;
                    }
                };
                let attempt = msg
                    .info()
                    .map(|i| u64::try_from(i.delivered).unwrap_or(1))
                    .unwrap_or(1);
                let subject = bus.strip(msg.subject.as_str()).to_owned();
                // Belt and braces for servers that cannot filter on several subjects.
                if !spec.subjects.iter().any(|p| subject_matches(p, &subject)) {
                    if let Err(e) = msg.ack().await {
                        tracing::warn!(durable = %spec.durable, error = %e, "ack of a skipped event failed");
                    }
                    continue;
                }
                let delivery = Delivery {
                    subject,
                    payload: msg.payload.clone(),
                    attempt,
                };
                let outcome = handler(delivery).await;
                let ack = match outcome {
                    // Double ack: the server confirms, so a lost ack does not look like success.
                    Ok(()) => msg.double_ack().await,
                    Err(e) => {
                        tracing::warn!(durable = %spec.durable, attempt, error = %e, "event handling failed; will retry");
                        msg.ack_with(AckKind::Nak(Some(bus.delivery.retry_delay(attempt))))
                            .await
                    }
                };
                if let Err(e) = ack {
                    tracing::warn!(durable = %spec.durable, error = %e, "ack failed; the event will be redelivered");
                }
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }
}

#[async_trait]
impl EventBus for NatsBus {
    async fn publish(&self, subject: &str, event_id: Uuid, payload: Bytes) -> Result<(), BusError> {
        use async_nats::jetstream::message::PublishMessage;
        let ack = self
            .js
            .send_publish(
                self.full(subject),
                PublishMessage::build()
                    .payload(payload)
                    .message_id(event_id.to_string()),
            )
            .await
            .map_err(|e| BusError::Unavailable(e.to_string()))?;
        ack.await
            .map_err(|e| BusError::Unavailable(e.to_string()))?;
        Ok(())
    }

    async fn request(
        &self,
        subject: &str,
        payload: Bytes,
        timeout: Duration,
    ) -> Result<Bytes, BusError> {
        use async_nats::RequestErrorKind as K;
        let full = self.full(subject);
        match tokio::time::timeout(timeout, self.client.request(full, payload)).await {
            Err(_) => Err(BusError::Timeout(subject.to_owned())),
            Ok(Ok(msg)) => Ok(msg.payload),
            Ok(Err(e)) => Err(match e.kind() {
                K::NoResponders => BusError::NoResponders(subject.to_owned()),
                K::TimedOut => BusError::Timeout(subject.to_owned()),
                _ => BusError::Unavailable(e.to_string()),
            }),
        }
    }

    async fn serve(&self, subject: &str, handler: RequestHandler) -> Result<Worker, BusError> {
        let full = self.full(subject);
        let mut sub = self
            .client
            .queue_subscribe(full.clone(), full)
            .await
            .map_err(|e| BusError::Unavailable(e.to_string()))?;
        // Make sure the server knows the subscription before anyone relies on it. While NATS
        // is down the client re-subscribes on reconnect by itself, so a service may start
        // (and recover) without waiting for the broker.
        match tokio::time::timeout(Duration::from_secs(2), self.client.flush()).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => {
                tracing::warn!(subject, error = %e, "responder registered while NATS is unreachable")
            }
            Err(_) => tracing::warn!(subject, "responder registered while NATS is unreachable"),
        }
        let client = self.client.clone();
        Ok(Worker(tokio::spawn(async move {
            while let Some(msg) = sub.next().await {
                let Some(reply) = msg.reply.clone() else {
                    continue;
                };
                let handler = handler.clone();
                let client = client.clone();
                tokio::spawn(async move {
                    let answer = handler(msg.payload).await;
                    if let Err(e) = client.publish(reply, answer).await {
                        tracing::warn!(error = %e, "could not send a reply");
                    }
                });
            }
        })))
    }

    async fn consume(&self, spec: ConsumerSpec, handler: EventHandler) -> Result<Worker, BusError> {
        let task = Self::run_consumer(
            self.js.clone(),
            self.stream.clone(),
            self.clone(),
            spec,
            handler,
        );
        Ok(Worker(tokio::spawn(task)))
    }

    async fn ping(&self) -> Result<(), BusError> {
        match tokio::time::timeout(Duration::from_secs(2), self.client.flush()).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(BusError::Unavailable(e.to_string())),
            Err(_) => Err(BusError::Unavailable("NATS did not answer".into())),
        }
    }

    fn kind(&self) -> &'static str {
        "nats"
    }

    fn delivery_policy(&self) -> DeliveryPolicy {
        self.delivery.clone()
    }

    async fn dead_letter(
        &self,
        consumer: &str,
        delivery: &Delivery,
        reason: &str,
    ) -> Result<(), BusError> {
        use async_nats::jetstream::message::PublishMessage;
        use sha2::Digest as _;
        // The same event parked twice (a redelivery after a failed park) is one message.
        let id = format!(
            "{consumer}:{}",
            hex_digest(&sha2::Sha256::digest(&delivery.payload))
        );
        // Header values are one line; the reason is shortened to keep the header small.
        let reason: String = reason
            .chars()
            .filter(|c| !c.is_control())
            .take(512)
            .collect();
        let message = PublishMessage::build()
            .payload(delivery.payload.clone())
            .message_id(id)
            .header(DEAD_LETTER_SUBJECT_HEADER, delivery.subject.as_str())
            .header(DEAD_LETTER_REASON_HEADER, reason.as_str());
        let ack = self
            .js
            .send_publish(self.dead_letter_subject(consumer), message)
            .await
            .map_err(|e| BusError::Unavailable(e.to_string()))?;
        ack.await
            .map_err(|e| BusError::Unavailable(e.to_string()))?;
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------
// In-process

#[derive(Default)]
struct InProcState {
    log: Vec<(String, Bytes)>,
    seen: HashSet<Uuid>,
    /// Next log index per durable consumer name, shared by all its workers.
    offsets: HashMap<String, usize>,
    responders: HashMap<String, RequestHandler>,
}

/// The embedded-mode bus: an append-only log in memory with the same delivery guarantees
/// as the NATS bus for one process (at-least-once, duplicates by event id dropped).
#[derive(Clone, Default)]
pub struct InProcessBus {
    state: Arc<Mutex<InProcState>>,
    appended: Arc<tokio::sync::Notify>,
    delivery: DeliveryPolicy,
}

impl InProcessBus {
    pub fn new() -> Self {
        Self::default()
    }

    /// Changes the delivery budget of consumers started afterwards.
    pub fn with_delivery_policy(mut self, policy: DeliveryPolicy) -> Self {
        self.delivery = policy;
        self
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, InProcState> {
        // A poisoned lock only means a handler panicked mid-update of plain data; keep going.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Claims the next event for `spec`, if any.
    fn claim(&self, spec: &ConsumerSpec) -> Option<(String, Bytes)> {
        let mut st = self.lock();
        let start = *st.offsets.get(&spec.durable).unwrap_or(&0);
        let found = st.log[start..]
            .iter()
            .position(|(subject, _)| spec.subjects.iter().any(|p| subject_matches(p, subject)))
            .map(|i| start + i);
        match found {
            Some(i) => {
                st.offsets.insert(spec.durable.clone(), i + 1);
                Some(st.log[i].clone())
            }
            None => {
                let len = st.log.len();
                st.offsets.insert(spec.durable.clone(), len);
                None
            }
        }
    }
}

#[async_trait]
impl EventBus for InProcessBus {
    async fn publish(&self, subject: &str, event_id: Uuid, payload: Bytes) -> Result<(), BusError> {
        {
            let mut st = self.lock();
            if !st.seen.insert(event_id) {
                return Ok(());
            }
            st.log.push((subject.to_owned(), payload));
        }
        self.appended.notify_waiters();
        Ok(())
    }

    async fn request(
        &self,
        subject: &str,
        payload: Bytes,
        timeout: Duration,
    ) -> Result<Bytes, BusError> {
        let handler = self.lock().responders.get(subject).cloned();
        let handler = handler.ok_or_else(|| BusError::NoResponders(subject.to_owned()))?;
        tokio::time::timeout(timeout, handler(payload))
            .await
            .map_err(|_| BusError::Timeout(subject.to_owned()))
    }

    async fn serve(&self, subject: &str, handler: RequestHandler) -> Result<Worker, BusError> {
        self.lock().responders.insert(subject.to_owned(), handler);
        struct Unregister(InProcessBus, String);
        impl Drop for Unregister {
            fn drop(&mut self) {
                self.0.lock().responders.remove(&self.1);
            }
        }
        // The responder lives as long as its worker: aborting the task drops the guard, even
        // when the task was never polled.
        let guard = Unregister(self.clone(), subject.to_owned());
        Ok(Worker(tokio::spawn(async move {
            let _guard = guard;
            std::future::pending::<()>().await;
        })))
    }

    async fn consume(&self, spec: ConsumerSpec, handler: EventHandler) -> Result<Worker, BusError> {
        let bus = self.clone();
        Ok(Worker(tokio::spawn(async move {
            loop {
                // Register interest before looking, so an append between the look and the
                // wait is not missed.
                let notified = bus.appended.notified();
                tokio::pin!(notified);
                notified.as_mut().enable();
                while let Some((subject, payload)) = bus.claim(&spec) {
                    let mut attempt = 1;
                    loop {
                        let delivery = Delivery {
                            subject: subject.clone(),
                            payload: payload.clone(),
                            attempt,
                        };
                        match handler(delivery).await {
                            Ok(()) => break,
                            Err(e) if attempt >= bus.delivery.max_deliver().unsigned_abs() => {
                                tracing::error!(durable = %spec.durable, attempt, error = %e, "event given up after its delivery budget");
                                break;
                            }
                            Err(e) => {
                                tracing::warn!(durable = %spec.durable, attempt, error = %e, "event handling failed; will retry");
                                tokio::time::sleep(bus.delivery.retry_delay(attempt)).await;
                                attempt += 1;
                            }
                        }
                    }
                }
                notified.await;
            }
        })))
    }

    async fn ping(&self) -> Result<(), BusError> {
        Ok(())
    }

    fn kind(&self) -> &'static str {
        "in-process"
    }

    fn delivery_policy(&self) -> DeliveryPolicy {
        self.delivery.clone()
    }
}

/// Connects to NATS when configured, otherwise returns the in-process bus.
pub async fn connect(config: &crate::config::BusConfig) -> Result<Arc<dyn EventBus>, BusError> {
    Ok(match &config.nats_url {
        Some(url) => Arc::new(NatsBus::connect(url, &config.prefix).await?),
        None => Arc::new(InProcessBus::new()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn urls_lose_their_password_in_messages() {
        assert_eq!(
            redact_url("nats://orders:s3cret@nats:4222"),
            "nats://orders:[redacted]@nats:4222"
        );
        assert_eq!(redact_url("nats://127.0.0.1:4222"), "nats://127.0.0.1:4222");
    }

    #[test]
    fn wildcards() {
        assert!(subject_matches("orders.>", "orders.created"));
        assert!(subject_matches("orders.*", "orders.created"));
        assert!(!subject_matches("orders.*", "orders.created.v2"));
        assert!(subject_matches("orders.created", "orders.created"));
        assert!(!subject_matches("orders.>", "orders"));
        assert!(!subject_matches("payments.succeeded", "payments.failed"));
    }

    #[tokio::test]
    async fn in_process_dedups_and_shares_durable_offsets() {
        let bus = InProcessBus::new();
        let seen = Arc::new(AtomicUsize::new(0));
        let counter = seen.clone();
        let handler: EventHandler = Arc::new(move |_d| {
            let c = counter.clone();
            Box::pin(async move {
                c.fetch_add(1, Ordering::SeqCst);
                Ok(())
            })
        });
        let spec = ConsumerSpec {
            durable: "orders-payments".into(),
            subjects: vec!["payments.succeeded".into()],
        };
        let _a = bus.consume(spec.clone(), handler.clone()).await.unwrap();
        let _b = bus.consume(spec, handler).await.unwrap();
        let id = Uuid::now_v7();
        bus.publish("payments.succeeded", id, Bytes::from_static(b"{}"))
            .await
            .unwrap();
        bus.publish("payments.succeeded", id, Bytes::from_static(b"{}"))
            .await
            .unwrap();
        bus.publish("payments.failed", Uuid::now_v7(), Bytes::from_static(b"{}"))
            .await
            .unwrap();
        bus.publish(
            "payments.succeeded",
            Uuid::now_v7(),
            Bytes::from_static(b"{}"),
        )
        .await
        .unwrap();
        tokio::time::timeout(Duration::from_secs(5), async {
            while seen.load(Ordering::SeqCst) < 2 {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        })
        .await
        .unwrap();
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert_eq!(seen.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn in_process_request_reply() {
        let bus = InProcessBus::new();
        let err = bus
            .request("rpc.x", Bytes::new(), Duration::from_millis(50))
            .await
            .unwrap_err();
        assert_eq!(err, BusError::NoResponders("rpc.x".into()));
        let worker = bus
            .serve(
                "rpc.x",
                json_handler(|n: u32| async move { n * 2 }, |_| 0u32),
            )
            .await
            .unwrap();
        let doubled: u32 = request_json(&bus, "rpc.x", &21u32, Duration::from_secs(1))
            .await
            .unwrap();
        assert_eq!(doubled, 42);
        drop(worker);
        tokio::task::yield_now().await;
        tokio::time::sleep(Duration::from_millis(10)).await;
        assert!(
            bus.request("rpc.x", Bytes::new(), Duration::from_millis(50))
                .await
                .is_err()
        );
    }
}

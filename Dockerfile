# One image for every service: the build stage compiles all binaries once, the runtime
# stage is a slim Debian with the binaries, the schema files and curl for healthchecks.
# docker-compose.yml picks the binary per service with `command`.

FROM rust:1.95-slim-bookworm AS build
WORKDIR /src
RUN apt-get update && apt-get install -y --no-install-recommends pkg-config && rm -rf /var/lib/apt/lists/*
COPY . .
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked \
      -p products -p users -p orders -p payments -p router -p stack \
 && mkdir -p /out \
 && cp target/release/products target/release/users target/release/orders \
       target/release/payments target/release/router target/release/commerce /out/

FROM debian:bookworm-slim AS runtime
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home /app commerce
WORKDIR /app
COPY --from=build /out/ /usr/local/bin/
COPY schema/ /app/schema/
COPY supergraph.yaml /app/supergraph.yaml
COPY router/config/ /app/router/config/
# The service user owns /app, so DATA_DIR (/app/data) is writable; the binaries stay root's.
RUN mkdir -p /app/data && chown -R commerce:commerce /app
USER commerce
ENV RUST_LOG=info LOG_FORMAT=json

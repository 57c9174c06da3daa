// Real clients against a running router: graphql-js introspection and buildClientSchema,
// Apollo Client's persisted-query link, compression as an HTTP client sees it, an oversized
// body sent by Node's fetch, and GraphiQL's page in headless Chromium.
//
// Started by `router/stack/tests/clients.rs`, which runs the whole system and sets
// ROUTER_URL (the router's base URL, no trailing slash). Run by hand with:
//   ROUTER_URL=http://127.0.0.1:4000 node --test router/tests/clients/

import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import http from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import zlib from "node:zlib";

import {
  buildClientSchema,
  buildSchema,
  getIntrospectionQuery,
  isIntrospectionType,
  isSpecifiedScalarType,
} from "graphql";
import { ApolloClient, HttpLink, InMemoryCache, gql } from "@apollo/client/core/index.js";
import { createPersistedQueryLink } from "@apollo/client/link/persisted-queries/index.js";
import { chromium } from "playwright-core";

const ROUTER_URL = process.env.ROUTER_URL;
if (!ROUTER_URL) {
  throw new Error("ROUTER_URL must name the running router, e.g. http://127.0.0.1:4000");
}
const GRAPHQL_URL = `${ROUTER_URL}/graphql`;
const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

const CATALOG = `query Catalog {
  products(first: 25, sort: NAME) {
    totalCount
    edges { cursor node { id name description price { amount currencyCode } } }
    pageInfo { hasNextPage endCursor }
  }
}`;

async function post(body, headers = {}) {
  const response = await fetch(GRAPHQL_URL, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/json", ...headers },
    body: JSON.stringify(body),
  });
  return { status: response.status, json: await response.json() };
}

/** The names of the schema's own named types (no built-ins). */
function ownTypeNames(schema) {
  return Object.values(schema.getTypeMap())
    .filter((t) => !isIntrospectionType(t) && !isSpecifiedScalarType(t))
    .map((t) => t.name)
    .sort();
}

test("getIntrospectionQuery() with every option builds a client schema", async () => {
  const options = [
    {
      descriptions: true,
      specifiedByUrl: true,
      directiveIsRepeatable: true,
      schemaDescription: true,
      inputValueDeprecation: true,
      oneOf: true,
    },
    {}, // the defaults, as GraphiQL and most tools send it
  ];
  const published = await fetch(`${ROUTER_URL}/schema.graphql`);
  assert.equal(published.status, 200);
  const sdlSchema = buildSchema(await published.text());
  for (const option of options) {
    const { status, json } = await post({
      query: getIntrospectionQuery(option),
      operationName: "IntrospectionQuery",
    });
    assert.equal(status, 200, JSON.stringify(json.errors));
    assert.equal(json.errors, undefined, JSON.stringify(json.errors));
    const schema = buildClientSchema(json.data);
    assert.equal(schema.getQueryType().name, "Query");
    assert.equal(schema.getMutationType().name, "Mutation");
    const products = schema.getQueryType().getFields().products;
    assert.equal(String(products.type), "ProductConnection!");
    // What introspection says and what /schema.graphql says are the same schema.
    assert.deepEqual(ownTypeNames(schema), ownTypeNames(sdlSchema));
    for (const name of ["_Any", "_Entity", "_Service", "join__Graph", "link__Purpose"]) {
      assert.equal(schema.getType(name), undefined, `${name} must not be visible`);
    }
  }
});

test("Apollo's persisted-query link: hash, PERSISTED_QUERY_NOT_FOUND, full query, then hash over GET", async () => {
  const sent = [];
  const recordingFetch = async (uri, init) => {
    const url = new URL(uri);
    const body = init.body ? JSON.parse(init.body) : undefined;
    const response = await fetch(uri, init);
    const json = await response.clone().json();
    sent.push({
      method: init.method ?? "GET",
      hasQuery: Boolean(body?.query ?? url.searchParams.get("query")),
      hash: (body?.extensions ?? JSON.parse(url.searchParams.get("extensions") ?? "{}"))
        .persistedQuery?.sha256Hash,
      code: json.errors?.[0]?.extensions?.code,
    });
    return response;
  };
  const sha256 = (text) => createHash("sha256").update(text).digest("hex");
  const client = () =>
    new ApolloClient({
      cache: new InMemoryCache(),
      link: createPersistedQueryLink({ sha256, useGETForHashedQueries: true }).concat(
        new HttpLink({ uri: GRAPHQL_URL, fetch: recordingFetch }),
      ),
    });
  const query = gql(CATALOG);

  const first = await client().query({ query, fetchPolicy: "network-only" });
  assert.ok(first.data.products.totalCount > 0);
  assert.equal(sent.length, 2, JSON.stringify(sent));
  assert.deepEqual(
    { method: sent[0].method, hasQuery: sent[0].hasQuery, code: sent[0].code },
    { method: "GET", hasQuery: false, code: "PERSISTED_QUERY_NOT_FOUND" },
  );
  assert.deepEqual(
    { method: sent[1].method, hasQuery: sent[1].hasQuery, code: sent[1].code },
    { method: "POST", hasQuery: true, code: undefined },
  );
  assert.equal(sent[1].hash, sent[0].hash);

  // A second client (a new page load) needs only the hash, over GET.
  const second = await client().query({ query, fetchPolicy: "network-only" });
  assert.equal(sent.length, 3, JSON.stringify(sent));
  assert.deepEqual(
    { method: sent[2].method, hasQuery: sent[2].hasQuery, code: sent[2].code },
    { method: "GET", hasQuery: false, code: undefined },
  );
  assert.deepEqual(second.data, first.data);
});

/** A raw request, so the bytes on the wire are seen before any decoding. */
function rawPost(body, acceptEncoding) {
  return new Promise((resolve, reject) => {
    const request = http.request(
      GRAPHQL_URL,
      {
        method: "POST",
        headers: {
          "content-type": "application/json",
          accept: "application/json",
          ...(acceptEncoding ? { "accept-encoding": acceptEncoding } : {}),
        },
      },
      (response) => {
        const chunks = [];
        response.on("data", (c) => chunks.push(c));
        response.on("end", () =>
          resolve({ headers: response.headers, bytes: Buffer.concat(chunks) }),
        );
      },
    );
    request.on("error", reject);
    request.end(JSON.stringify(body));
  });
}

test("responses are compressed as Accept-Encoding asks", async () => {
  const body = { query: CATALOG };
  const identity = await rawPost(body, undefined);
  assert.equal(identity.headers["content-encoding"], undefined);
  const text = identity.bytes.toString("utf8");
  assert.ok(JSON.parse(text).data.products.edges.length > 0);

  const gzip = await rawPost(body, "gzip");
  assert.equal(gzip.headers["content-encoding"], "gzip");
  assert.equal(zlib.gunzipSync(gzip.bytes).toString("utf8"), text);
  assert.ok(gzip.bytes.length < identity.bytes.length / 2, `${gzip.bytes.length} vs ${identity.bytes.length}`);

  const br = await rawPost(body, "br");
  assert.equal(br.headers["content-encoding"], "br");
  assert.equal(zlib.brotliDecompressSync(br.bytes).toString("utf8"), text);

  const zstd = await rawPost(body, "zstd");
  assert.equal(zstd.headers["content-encoding"], "zstd");
  // Node 20 has no zstd decoder; the frame's magic number shows it is zstd.
  assert.deepEqual([...zstd.bytes.subarray(0, 4)], [0x28, 0xb5, 0x2f, 0xfd]);

  // fetch decodes transparently, as browsers do.
  const viaFetch = await fetch(GRAPHQL_URL, {
    method: "POST",
    headers: { "content-type": "application/json", "accept-encoding": "br, gzip" },
    body: JSON.stringify(body),
  });
  assert.equal(viaFetch.headers.get("content-encoding"), "br");
  assert.equal(await viaFetch.text(), text);
});

test("a 5 MB body sent by fetch gets the 413 answer with its code", async () => {
  const padding = "x".repeat(5 * 1024 * 1024);
  const response = await fetch(GRAPHQL_URL, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/json" },
    body: JSON.stringify({ query: "{ __typename }", padding }),
  });
  assert.equal(response.status, 413);
  const json = await response.json();
  assert.equal(json.errors[0].extensions.code, "PAYLOAD_TOO_LARGE");
});

test("GraphiQL's docs explorer shows Query in headless Chromium", async () => {
  const profile = mkdtempSync(join(tmpdir(), "graphiql-chromium-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
  try {
    const page = context.pages()[0] ?? (await context.newPage());
    const errors = [];
    page.on("pageerror", (e) => errors.push(String(e)));
    await page.goto(`${ROUTER_URL}/`, { waitUntil: "load", timeout: 60_000 });
    await page
      .getByRole("button", { name: "Show Documentation Explorer" })
      .click({ timeout: 60_000 });
    const explorer = page.locator(".graphiql-doc-explorer");
    await explorer.getByText("Query", { exact: true }).first().waitFor({ timeout: 60_000 });
    const shown = await explorer.innerText();
    assert.ok(!shown.includes("Error fetching schema"), shown);
    assert.match(shown, /\bquery\b[\s\S]*\bQuery\b/);
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
    rmSync(profile, { recursive: true, force: true });
  }
});

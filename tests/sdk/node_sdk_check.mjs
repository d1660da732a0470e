#!/usr/bin/env node
// Outside check of the emulator's fidelity with Zoho's official Node SDK (npm `@zohocrm/nodejs-sdk-8.0`).
//
// Runs the SDK's related-records update against a running zcrm-emulator, unchanged, for the cases of Zoho's
// "Update Related Records Using External ID" page, and checks the SDK's parsed answer (its SuccessResponse /
// APIException objects), what the SDK sent (the emulator's journal) and the emulator's state.
//
//   node node_sdk_check.mjs --base-url http://127.0.0.1:PORT --accounts-url http://127.0.0.1:PORT/accounts \
//       --workdir DIR [--bench N --warmup W] [--log] [--probe-api-domain URL [--probe-config stock|checks]]
//
// Exit status: 0 if every check passed, 1 otherwise. With --bench, N more sequential updates are timed after
// the checks and one JSON line {"sdk": "node", ...} is printed; --probe-api-domain replaces the checks with the
// api_domain experiment (see benches/sdk_compare.sh).
//
// SDK configuration needed to keep the SDK on the emulator (read from the SDK's source):
// * a custom `new Environment(url, accountsUrl, fileUploadUrl)`: `url` is the CRM base URL (the SDK appends
//   `/crm/v8/...`), `accountsUrl` is the full token-endpoint URL (`{accounts}/oauth/v2/token`);
// * `new SDKConfigBuilder().updateAPIDomain(false)`: otherwise the SDK stores the token reply's `api_domain`
//   with the token, and on the next call `DataCenter.get(api_domain)` swaps the environment for Zoho's own when
//   that domain is a `*.zohoapis.*` URL (it keeps the configured environment for any other value);
// * a `FileStore` and `resourcePath` in the work directory (the defaults are inside node_modules' parent);
//   `resourcePath` must end with "/" (the SDK concatenates it with "resources").
//
// Case A (an external value in the path) goes through `updateRelatedRecordsUsingExternalId`:
// `updateRelatedRecords` types `recordId` as BigInt, so it serves case B (a record id in the path).

import { mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { performance } from "node:perf_hooks";

import * as ZOHOCRMSDK from "@zohocrm/nodejs-sdk-8.0";

const {
  Environment, OAuthBuilder, InitializeBuilder, SDKConfigBuilder, FileStore, LogBuilder, Levels, HeaderMap,
  RelatedRecords, Record,
} = ZOHOCRMSDK;

const CLIENT_ID = "1000.EMULATORCLIENTID";
const CLIENT_SECRET = "emulator-client-secret";
const REFRESH_TOKEN = "1000.emulator.refresh.token";
const CONTACT_ID = "111111000000085009"; // extcontact3
const DEAL3_ID = "111111000000094028"; // extdeal3
const DEAL2_ID = "111111000000094040"; // extdeal2
const ROLE = "111111000000026002";
const BOTH = "Contacts.External_Contact_ID,Deals.External_Deal_ID";
const BASE_ERROR = "You have specified an invalid external ID for the base module";
const METADATA = ["/crm/v8/users", "/crm/v8/org", "/crm/v8/settings/"];

const failures = [];
function check(ok, what) {
  console.log((ok ? "  ok   " : "  FAIL ") + what);
  if (!ok) failures.push(what);
}

function args() {
  const a = { warmup: 20, bench: 0, log: false, probeConfig: "stock" };
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    if (k === "--log") a.log = true;
    else if (k === "--base-url") a.baseUrl = argv[++i];
    else if (k === "--accounts-url") a.accountsUrl = argv[++i];
    else if (k === "--workdir") a.workdir = argv[++i];
    else if (k === "--bench") a.bench = Number(argv[++i]);
    else if (k === "--warmup") a.warmup = Number(argv[++i]);
    else if (k === "--probe-api-domain") a.probe = argv[++i];
    else if (k === "--probe-config") a.probeConfig = argv[++i];
    else throw new Error(`unknown argument ${k}`);
  }
  if (!a.baseUrl || !a.accountsUrl || !a.workdir) throw new Error("--base-url, --accounts-url and --workdir are required");
  return a;
}

async function control(base, method, path) {
  const r = await fetch(`${base}/__emulator/${path}`, { method });
  const text = await r.text();
  return text ? JSON.parse(text) : null;
}

function relation(state, contactId, dealId) {
  for (const r of state.relations) {
    const ends = [`${r.a.module}:${r.a.id}`, `${r.b.module}:${r.b.id}`].sort().join(" ");
    if (ends === [`Contacts:${contactId}`, `Deals:${dealId}`].sort().join(" ")) return r.fields;
  }
  return null;
}

function body(externalDeal) {
  const record = new Record.Record();
  record.addKeyValue("External_Deal_ID", externalDeal);
  record.addKeyValue("Contact_Role", ROLE);
  const wrapper = new RelatedRecords.BodyWrapper();
  wrapper.setData([record]);
  return wrapper;
}

async function caseA(ops, value = "extcontact3") {
  const headers = new HeaderMap();
  await headers.add(RelatedRecords.UpdateRelatedRecordsUsingExternalIDHeader.X_EXTERNAL, BOTH);
  return ops.updateRelatedRecordsUsingExternalId(value, body("extdeal3"), headers);
}

async function caseB(ops) {
  const headers = new HeaderMap();
  await headers.add(RelatedRecords.UpdateRelatedRecordsHeader.X_EXTERNAL, "Deals.External_Deal_ID");
  return ops.updateRelatedRecords(BigInt(CONTACT_ID), body("extdeal2"), headers);
}

function detailsObject(d) {
  return d instanceof Map ? Object.fromEntries(d) : d;
}

function successOf(response, externalDeal, dealId, label) {
  check(response != null, `${label}: the SDK returned a response`);
  if (response == null) return;
  check(response.getStatusCode() === 200, `${label}: HTTP 200 (got ${response.getStatusCode()})`);
  const obj = response.getObject();
  check(obj instanceof RelatedRecords.ActionWrapper, `${label}: parsed as ActionWrapper (got ${obj?.constructor?.name})`);
  if (!(obj instanceof RelatedRecords.ActionWrapper)) return;
  const data = obj.getData();
  check(data.length === 1, `${label}: one item in data`);
  const item = data[0];
  check(item instanceof RelatedRecords.SuccessResponse, `${label}: item is a SuccessResponse (got ${item?.constructor?.name})`);
  if (!(item instanceof RelatedRecords.SuccessResponse)) return;
  check(item.getCode().getValue() === "SUCCESS", `${label}: code SUCCESS`);
  check(item.getStatus().getValue() === "success", `${label}: status success`);
  check(item.getMessage().getValue() === "relation added", `${label}: message 'relation added'`);
  // The SDK's model types details.id as Long: the string id of the answer comes back as a BigInt.
  const details = detailsObject(item.getDetails());
  check(details.External_Deal_ID === externalDeal && String(details.id) === dealId,
    `${label}: details {External_Deal_ID: ${externalDeal}, id: ${dealId}} (got ${JSON.stringify(details, (k, v) => typeof v === "bigint" ? `${v}n` : v)})`);
}

function putSent(journal, path, xExternal, label) {
  const puts = journal.filter((e) => e.method === "PUT" && e.path === path);
  check(puts.length === 1, `${label}: exactly one PUT ${path} sent`);
  if (puts.length === 0) return;
  const h = Object.fromEntries(puts[0].headers);
  check(h["x-external"] === xExternal, `${label}: X-EXTERNAL '${xExternal}' (sent '${h["x-external"]}')`);
  // The SDK sets Content-Type only for a few bulk/zia URLs: the emulator must not require it on this PUT.
  check(!("content-type" in h), `${label}: sent without a Content-Type, and accepted`);
  const sent = JSON.parse(puts[0].body);
  check(sent.data[0].Contact_Role === ROLE, `${label}: body carries Contact_Role (sent ${puts[0].body})`);
}

async function initSdk(base, accounts, workdir, log) {
  mkdirSync(workdir, { recursive: true });
  const tokenFile = join(workdir, "sdk_tokens.txt");
  rmSync(tokenFile, { force: true });
  const environment = new Environment(base, `${accounts}/oauth/v2/token`, base);
  const token = new OAuthBuilder().clientId(CLIENT_ID).clientSecret(CLIENT_SECRET).refreshToken(REFRESH_TOKEN).build();
  const logger = log
    ? new LogBuilder().level(Levels.INFO).filePath(join(workdir, "sdk.log")).build()
    : new LogBuilder().level(Levels.OFF).filePath(null).build();
  const sdkConfig = new SDKConfigBuilder().updateAPIDomain(false).build();
  await (await new InitializeBuilder())
    .environment(environment)
    .token(token)
    .store(new FileStore(tokenFile))
    .SDKConfig(sdkConfig)
    // The SDK joins resourcePath and "resources" by plain concatenation: the trailing slash is needed.
    .resourcePath(workdir.endsWith("/") ? workdir : `${workdir}/`)
    .logger(logger)
    .initialize();
}

async function runChecks(base, accounts, workdir, log) {
  await control(base, "POST", "reset");
  await initSdk(base, accounts, workdir, log);
  const ops = new RelatedRecords.RelatedRecordsOperations("Deals", "Contacts");

  console.log("case A: PUT Contacts/extcontact3/Deals, X-EXTERNAL names both modules");
  successOf(await caseA(ops), "extdeal3", DEAL3_ID, "case A");
  console.log("case B: PUT Contacts/<record id>/Deals, X-EXTERNAL names the related module");
  successOf(await caseB(ops), "extdeal2", DEAL2_ID, "case B");

  console.log("error: an unknown base external value");
  const r = await caseA(ops, "no-such-contact");
  check(r != null && r.getStatusCode() === 400, "error: HTTP 400");
  const err = r?.getObject();
  check(err instanceof RelatedRecords.APIException, `error: parsed as APIException (got ${err?.constructor?.name})`);
  if (err instanceof RelatedRecords.APIException) {
    check(err.getCode().getValue() === "INVALID_DATA", "error: code INVALID_DATA");
    check(err.getMessage().getValue() === BASE_ERROR, "error: message");
    const d = detailsObject(err.getDetails());
    check(d != null && Number(d.resource_path_index) === 1, `error: details.resource_path_index (${JSON.stringify(d)})`);
  }

  const journal = await control(base, "GET", "journal");
  putSent(journal, "/crm/v8/Contacts/extcontact3/Deals", BOTH, "case A");
  putSent(journal, `/crm/v8/Contacts/${CONTACT_ID}/Deals`, "Deals.External_Deal_ID", "case B");
  const host = new URL(base).host;
  check(journal.every((e) => e.status !== 0), "every request answered");
  check(journal.every((e) => Object.fromEntries(e.headers).host === host), `every request went to the emulator (${host})`);
  const meta = journal.filter((e) => METADATA.some((m) => e.path.startsWith(m))).map((e) => `${e.method} ${e.path}?${e.query}`);
  console.log(`  hidden metadata calls: ${meta.join(", ") || "none"}`);

  const state = await control(base, "GET", "state");
  check(JSON.stringify(relation(state, CONTACT_ID, DEAL3_ID)) === JSON.stringify({ Contact_Role: ROLE }), "state: extcontact3 <-> extdeal3 with the role");
  check(JSON.stringify(relation(state, CONTACT_ID, DEAL2_ID)) === JSON.stringify({ Contact_Role: ROLE }), "state: extcontact3 <-> extdeal2 with the role");
  check(state.relations.length === 2, `state: exactly two relations (got ${state.relations.length})`);
  check(state.stats.tokens_issued === 1, `state: one access token minted (${state.stats.tokens_issued})`);
}

async function bench(base, n, warmup) {
  const ops = new RelatedRecords.RelatedRecordsOperations("Deals", "Contacts");
  // What a fresh process sent before (and for) its first updates: the checks' journal.
  const first = await control(base, "GET", "journal");
  for (let i = 0; i < warmup; i++) await caseA(ops);
  await control(base, "DELETE", "journal");
  const times = [];
  const tStart = Date.now() / 1000;
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    const r = await caseA(ops);
    times.push(performance.now() - t0);
    if (r == null || r.getStatusCode() !== 200) throw new Error("bench: an update failed");
  }
  const tEnd = Date.now() / 1000;
  const journal = await control(base, "GET", "journal");
  times.sort((x, y) => x - y);
  const round = (x) => Math.round(x * 1000) / 1000;
  return {
    sdk: "node",
    t_start: tStart,
    t_end: tEnd,
    fresh_process_metadata_calls: first.filter((e) => METADATA.some((m) => e.path.startsWith(m))).map((e) => e.path),
    n,
    mean_ms: round(times.reduce((s, x) => s + x, 0) / n),
    p50_ms: round(times[Math.floor(n / 2)]),
    p95_ms: round(times[Math.floor(n * 0.95) - 1]),
    requests_in_journal: journal.length,
    metadata_calls: journal.filter((e) => METADATA.some((m) => e.path.startsWith(m))).length,
    token_calls: journal.filter((e) => e.path.endsWith("/oauth/v2/token")).length,
  };
}

const PAGE_TOKEN = "1000.8cb99dxxxxxxxxxxxxx9be93.9b8xxxxxxxxxxxxxxxf";

// The SDK given a token reply whose api_domain is `apiDomain`, in its stock configuration (api_domain updates
// on) or in the checks' (off): where do its calls go? The token reply is scripted with a token fault carrying
// the page's static token, which the emulator accepts.
async function probeApiDomain(base, accounts, workdir, apiDomain, stock) {
  await control(base, "POST", "reset");
  const reply = { access_token: PAGE_TOKEN, api_domain: apiDomain, token_type: "Bearer", expires_in: 3600 };
  await fetch(`${base}/__emulator/faults`, {
    method: "POST",
    body: JSON.stringify({ kind: "status", target: "token", status: 200, body: JSON.stringify(reply) }),
  });
  mkdirSync(workdir, { recursive: true });
  const tokenFile = join(workdir, "sdk_tokens.txt");
  rmSync(tokenFile, { force: true });
  const outcome = [];
  let initializer = null;
  try {
    await (await new InitializeBuilder())
      .environment(new Environment(base, `${accounts}/oauth/v2/token`, base))
      .token(new OAuthBuilder().clientId(CLIENT_ID).clientSecret(CLIENT_SECRET).refreshToken(REFRESH_TOKEN).build())
      .store(new FileStore(tokenFile))
      .SDKConfig(stock ? new SDKConfigBuilder().build() : new SDKConfigBuilder().updateAPIDomain(false).build())
      .resourcePath(workdir.endsWith("/") ? workdir : `${workdir}/`)
      .initialize();
    const ops = new RelatedRecords.RelatedRecordsOperations("Deals", "Contacts");
    for (let i = 0; i < 2; i++) {
      try {
        const r = await caseA(ops);
        outcome.push(r == null ? "no response" : `HTTP ${r.getStatusCode()}`);
      } catch (e) {
        outcome.push(`${e.constructor.name}: ${String(e.cause ?? e.message ?? e).slice(0, 160)}`);
      }
    }
    initializer = await ZOHOCRMSDK.Initializer.getInitializer();
  } catch (e) {
    outcome.push(`initialize: ${String(e.cause ?? e.message ?? e).slice(0, 160)}`);
  }
  const journal = await control(base, "GET", "journal");
  return {
    sdk: "node",
    config: stock ? "stock (updateAPIDomain=true)" : "updateAPIDomain=false",
    token_reply_api_domain: apiDomain,
    environment_url_after: initializer?.getEnvironment()?.getUrl() ?? null,
    updates: outcome,
    reached_emulator: journal.map((e) => `${e.method} ${e.path}`),
  };
}

async function main() {
  const a = args();
  for (const u of [a.baseUrl, a.accountsUrl]) {
    if (!["127.0.0.1", "localhost", "[::1]"].includes(new URL(u).hostname)) {
      console.error(`refusing a non-loopback URL: ${u}`);
      return 2;
    }
  }
  if (a.probe) {
    console.log(JSON.stringify(await probeApiDomain(a.baseUrl, a.accountsUrl, a.workdir, a.probe, a.probeConfig === "stock")));
    return 0;
  }
  await runChecks(a.baseUrl, a.accountsUrl, a.workdir, a.log);
  if (failures.length) {
    console.error(`node SDK check: ${failures.length} failed`);
    return 1;
  }
  console.log("node SDK check: all passed");
  if (a.bench) console.log(JSON.stringify(await bench(a.baseUrl, a.bench, a.warmup)));
  return 0;
}

main().then((code) => process.exit(code), (e) => {
  console.error("node SDK check: exception:", e);
  process.exit(1);
});

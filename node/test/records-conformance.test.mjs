// The language-neutral records cases (tests/conformance/records_*.json, format in tests/conformance/README.md),
// also run by the Rust and Python suites. Requests are built with `client.prepareRecords` (a client adds no
// Authorization header to a prepared request: no token is fetched); responses are read with the pure
// `parseRecordOutcomes` / `parseRecordsPage`. Every case runs; all failing names are reported together.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'

import { zcrm } from './support.mjs'

const dir = new URL('../../tests/conformance/', import.meta.url)
const INPUT = ['base_url', 'api_version', 'access_token', 'operation', 'module', 'records', 'key', 'id', 'ids', 'values',
  'fields', 'page', 'per_page', 'page_token', 'external_fields', 'duplicate_check_fields']
const camel = (k) => k.replace(/_([a-z])/g, (_, c) => c.toUpperCase())

function load(file) {
  const cases = JSON.parse(readFileSync(new URL(file, dir), 'utf8'))
  assert.ok(Array.isArray(cases) && cases.length > 0, `${file} has no cases`)
  assert.equal(new Set(cases.map((c) => c.name)).size, cases.length, `${file}: duplicate case names`)
  return cases
}

function known(obj, keys, where) {
  for (const k of Object.keys(obj ?? {})) if (!keys.includes(k)) throw new Error(`unknown key ${JSON.stringify(k)} in ${where}`)
}

function runAll(file, cases, check) {
  const failures = []
  for (const c of cases) {
    try {
      check(c)
    } catch (e) {
      failures.push(`  - ${c.name}: ${e.message}`)
    }
  }
  assert.equal(failures.length, 0, `${file}: ${failures.length} of ${cases.length} cases failed:\n${failures.join('\n')}`)
  return cases.length
}

function checkRequest(c) {
  known(c, ['name', 'note', 'input', 'expected', 'expected_error'], 'case')
  known(c.input, INPUT, 'input')
  const { base_url: baseUrl, api_version: apiVersion, access_token: accessToken, operation, ...rest } = c.input
  const args = Object.fromEntries(Object.entries(rest).map(([k, v]) => [camel(k), v]))
  let built
  let error
  try {
    built = new zcrm.Client({ accessToken, baseUrl, apiVersion }).prepareRecords(operation, args)
  } catch (e) {
    error = e
  }
  if (c.expected) {
    if (error) throw new Error(`expected a request, got ${error.code} ${error.location ?? error.setting}: ${error.message}`)
    assert.equal(built.method, c.expected.method, 'method')
    assert.equal(built.url, c.expected.url, 'url')
    assert.deepEqual(built.headers, c.expected.headers.filter(([n]) => n !== 'Authorization'), 'headers')
    assert.equal(built.body, c.expected.body, 'body')
    assert.ok(!built.toCurl().includes(accessToken), 'toCurl() shows the token')
  } else {
    if (!error) throw new Error(`expected ${c.expected_error.code} at ${c.expected_error.location}, got ${built.url}`)
    assert.ok(error instanceof zcrm.ZcrmError, String(error))
    const location = error.code === 'INVALID_CONFIG' ? error.setting : error.location
    assert.deepEqual([error.code, location], [c.expected_error.code, c.expected_error.location], error.message)
  }
}

function checkError(error, want) {
  known(want, ['kind', 'code', 'status', 'message', 'details', 'body_prefix'], 'expected.error')
  if (!(error instanceof zcrm.ZcrmError)) throw new Error(`expected ${want.code}, got ${error}`)
  assert.deepEqual([error.kind, error.code, error.status], [want.kind, want.code, want.status])
  if (want.message !== undefined) assert.equal(error.apiMessage, want.message, 'message')
  if (want.details !== undefined) assert.deepEqual(error.details, want.details, 'details')
  if (want.body_prefix !== undefined) assert.equal(error.bodyPrefix, want.body_prefix, 'body_prefix')
}

function checkResponse(c) {
  known(c, ['name', 'note', 'kind', 'status', 'content_type', 'body', 'records_sent', 'expected'], 'case')
  let got
  let error
  try {
    got = c.kind === 'write'
      ? zcrm.parseRecordOutcomes(c.status, c.content_type, c.body, c.records_sent)
      : zcrm.parseRecordsPage(c.status, c.content_type, c.body)
  } catch (e) {
    error = e
  }
  if (c.expected.error) return checkError(error, c.expected.error)
  if (error) throw error
  if (c.kind === 'write') {
    known(c.expected, ['outcomes'], 'expected')
    assert.equal(got.status, c.status)
    assert.equal(got.outcomes.length, c.expected.outcomes.length, 'number of outcomes')
    c.expected.outcomes.forEach((w, i) => {
      known(w, ['index', 'ok', 'code', 'message', 'details', 'id', 'action', 'duplicate_field'], `outcomes[${i}]`)
      const o = got.outcomes[i]
      assert.deepEqual([o.index, o.ok, o.code], [i, w.ok, w.code], `outcomes[${i}]`)
      if (w.message !== undefined) assert.equal(o.message, w.message, 'message')
      if (w.details !== undefined) assert.deepEqual(o.details, w.details, 'details')
      if (w.id !== undefined) assert.equal(o.id, w.id, 'id')
      if (w.action !== undefined) assert.equal(o.action, w.action ?? undefined, 'action')
      if (w.duplicate_field !== undefined) assert.equal(o.duplicateField, w.duplicate_field ?? undefined, 'duplicate_field')
    })
  } else {
    known(c.expected, ['records', 'more_records'], 'expected')
    assert.deepEqual(got.records, c.expected.records, 'records')
    assert.equal(got.moreRecords, c.expected.more_records ?? false, 'more_records')
  }
}

test('conformance: records_requests.json', (t) => {
  t.diagnostic(`records_requests.json: ${runAll('records_requests.json', load('records_requests.json'), checkRequest)} cases`)
})

test('conformance: records_responses.json', (t) => {
  t.diagnostic(`records_responses.json: ${runAll('records_responses.json', load('records_responses.json'), checkResponse)} cases`)
})

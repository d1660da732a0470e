// The language-neutral cases in tests/conformance/ (format: tests/conformance/README.md), also run by the Rust
// and Python suites. Every case runs; all failing case names are reported together; a missing or empty file, or
// a case with a key this runner does not know, fails.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync, readdirSync } from 'node:fs'

import { zcrm } from './support.mjs'

const dir = new URL('../../tests/conformance/', import.meta.url)

function load(file) {
  const cases = JSON.parse(readFileSync(new URL(file, dir), 'utf8'))
  assert.ok(Array.isArray(cases) && cases.length > 0, `${file} has no cases`)
  const names = new Set()
  for (const c of cases) {
    assert.ok(typeof c.name === 'string' && c.name !== '', `${file}: a case has no name`)
    assert.ok(!names.has(c.name), `${file}: duplicate case name ${c.name}`)
    names.add(c.name)
  }
  return cases
}

/** Throws if `obj` has a key outside `known` (a typo must not skip a check silently). */
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

function records(input) {
  if (input.records !== undefined && input.records_repeat === undefined) return input.records
  if (input.records === undefined && input.records_repeat !== undefined) {
    const { template, count, key } = input.records_repeat
    known(input.records_repeat, ['template', 'count', 'key'], 'records_repeat')
    if (typeof template[key] !== 'string') throw new Error(`records_repeat: template[${key}] must be a string`)
    return Array.from({ length: count }, (_, i) => ({ ...template, [key]: `${template[key]}${i}` }))
  }
  throw new Error('exactly one of `records` and `records_repeat` is required')
}

const COMMON_INPUT = ['base_url', 'api_version', 'access_token', 'module', 'parent', 'related_list', 'related_module',
  'related_field']

function parentOf(p) {
  known(p, ['id', 'field', 'value'], 'input.parent')
  if (p.id !== undefined && p.field === undefined && p.value === undefined) return p.id
  if (p.id === undefined && p.field !== undefined && p.value !== undefined) return { field: p.field, value: p.value }
  throw new Error('parent must be {"id"} or {"field", "value"}')
}

/** The arguments of getRelated / deleteRelated (snake_case keys of the file -> the JS API's camelCase). */
function readArgs(input, operation) {
  const keys = operation === 'get_related'
    ? ['related', 'ids', 'fields', 'page', 'per_page', 'page_token', 'if_modified_since']
    : ['values']
  known(input, [...COMMON_INPUT, ...keys], 'input')
  const args = { module: input.module, parent: parentOf(input.parent), relatedList: input.related_list }
  const names = { related_module: 'relatedModule', related_field: 'relatedField', per_page: 'perPage',
    page_token: 'pageToken', if_modified_since: 'ifModifiedSince' }
  for (const k of ['related_module', 'related_field', ...keys]) {
    if (input[k] !== undefined) args[names[k] ?? k] = input[k]
  }
  return args
}

function checkReadRequest(c) {
  const { input } = c
  const target = { baseUrl: input.base_url, apiVersion: input.api_version, accessToken: input.access_token }
  const args = readArgs(input, c.operation)
  let built
  let error
  try {
    const client = new zcrm.Client(target)
    built = c.operation === 'get_related' ? client.prepareGetRelated(args) : client.prepareDeleteRelated(args)
  } catch (e) {
    error = e
  }
  if (c.expected && !c.expected_error) {
    known(c.expected, ['method', 'url', 'headers', 'body'], 'expected')
    if (error) throw new Error(`expected a request, got ${codeAndLocation(error)}: ${error.message}`)
    const auth = c.expected.headers.find(([n]) => n === 'Authorization')
    assert.deepEqual(auth, ['Authorization', `Zoho-oauthtoken ${input.access_token}`])
    assert.equal(built.method, c.expected.method, 'method')
    assert.equal(built.url, c.expected.url, 'url')
    // The client adds Authorization when it sends; a prepared request shows the other headers.
    assert.deepEqual(built.headers, c.expected.headers.filter(([n]) => n !== 'Authorization'), 'headers')
    assert.equal(built.body, c.expected.body, 'body')
  } else if (c.expected_error && !c.expected) {
    known(c.expected_error, ['code', 'location'], 'expected_error')
    if (!error) throw new Error(`expected ${c.expected_error.code} at ${c.expected_error.location}, got ${built.url}`)
    assert.deepEqual(codeAndLocation(error), [c.expected_error.code, c.expected_error.location], error.message)
  } else {
    throw new Error('a case needs exactly one of `expected` and `expected_error`')
  }
}

function requestArgs(input) {
  known(input, [...COMMON_INPUT, 'records', 'records_repeat'], 'input')
  const parent = parentOf(input.parent)
  const args = { module: input.module, parent, relatedList: input.related_list, records: records(input) }
  if (input.related_module !== undefined) args.relatedModule = input.related_module
  if (input.related_field !== undefined) args.relatedField = input.related_field
  return args
}

/** `[code, location]` of a ZcrmError: the INVALID_INPUT location, or the INVALID_CONFIG setting. */
function codeAndLocation(e) {
  if (!(e instanceof zcrm.ZcrmError)) throw new Error(`not a ZcrmError: ${e}`)
  return [e.code, e.code === 'INVALID_CONFIG' ? e.setting : e.location]
}

function checkRequest(c) {
  known(c, ['name', 'note', 'operation', 'input', 'expected', 'expected_error'], 'case')
  if (c.operation === 'get_related' || c.operation === 'delete_related') return checkReadRequest(c)
  if (c.operation !== undefined && c.operation !== 'update_related') throw new Error(`unknown operation ${c.operation}`)
  const { input } = c
  const args = requestArgs(input)
  const target = { baseUrl: input.base_url, apiVersion: input.api_version, accessToken: input.access_token }
  let built
  let error
  try {
    built = zcrm.prepareUpdateRelated({ ...args, ...target })
  } catch (e) {
    error = e
  }
  if (c.expected && !c.expected_error) {
    known(c.expected, ['method', 'url', 'headers', 'body'], 'expected')
    if (error) throw new Error(`expected a request, got ${codeAndLocation(error)}: ${error.message}`)
    // The token never leaves the native side: headers show it as `Zoho-oauthtoken ***` (checked to be the
    // token of the case, then compared redacted).
    const auth = c.expected.headers.find(([n]) => n === 'Authorization')
    assert.deepEqual(auth, ['Authorization', `Zoho-oauthtoken ${input.access_token}`])
    const redacted = c.expected.headers.map(([n, v]) => (n === 'Authorization' ? [n, 'Zoho-oauthtoken ***'] : [n, v]))
    assert.equal(built.method, c.expected.method, 'method')
    assert.equal(built.url, c.expected.url, 'url')
    assert.deepEqual(built.headers, redacted, 'headers')
    assert.equal(built.body, c.expected.body, 'body')
    assert.ok(!built.toCurl().includes(input.access_token), 'toCurl() shows the access token')
    // The same through a client (which adds no Authorization header: no token is fetched to prepare).
    const viaClient = new zcrm.Client(target).prepareUpdateRelated(args)
    assert.deepEqual([viaClient.method, viaClient.url, viaClient.body], [built.method, built.url, built.body], 'via client')
    assert.deepEqual(viaClient.headers, redacted.filter(([n]) => n !== 'Authorization'), 'via client: headers')
  } else if (c.expected_error && !c.expected) {
    known(c.expected_error, ['code', 'location'], 'expected_error')
    if (!error) throw new Error(`expected ${c.expected_error.code} at ${c.expected_error.location}, got ${built.url}`)
    assert.deepEqual(codeAndLocation(error), [c.expected_error.code, c.expected_error.location], error.message)
  } else {
    throw new Error('a case needs exactly one of `expected` and `expected_error`')
  }
}

/** The file's `info` (every key, null when absent) from a PageInfo (absent keys undefined). */
function infoOf(info) {
  if (info === undefined) return null
  return {
    per_page: info.perPage ?? null, count: info.count ?? null, page: info.page ?? null, more_records: info.moreRecords,
    next_page_token: info.nextPageToken ?? null, previous_page_token: info.previousPageToken ?? null,
    page_token_expiry: info.pageTokenExpiry ?? null,
  }
}

function checkError(error, wantError) {
  known(wantError, ['kind', 'code', 'status', 'message', 'details', 'body_prefix'], 'expected.error')
  assert.ok(error instanceof zcrm.ZcrmError, `not a ZcrmError: ${error}`)
  assert.equal(error.kind, wantError.kind, 'error kind')
  assert.equal(error.code, wantError.code, 'error code')
  assert.equal(error.status, wantError.status, 'error status')
  if (wantError.message !== undefined) {
    assert.equal(error.kind, 'Api', '`message` is only checked on Api errors')
    assert.equal(error.apiMessage, wantError.message, 'error message')
  }
  if (wantError.details !== undefined) assert.deepEqual(error.details, wantError.details, 'error details')
  if (wantError.body_prefix !== undefined) {
    assert.equal(error.kind, 'UnexpectedResponse', '`body_prefix` is only checked on UnexpectedResponse')
    assert.equal(error.bodyPrefix, wantError.body_prefix, 'body_prefix')
  }
}

function checkReadResponse(c) {
  known(c, ['name', 'note', 'operation', 'status', 'content_type', 'body', 'expected'], 'case')
  known(c.expected, ['rows', 'info', 'not_modified', 'error'], 'expected')
  let result
  let error
  try {
    result = zcrm.parseRelated(c.status, c.content_type, c.body)
  } catch (e) {
    error = e
  }
  if (c.expected.rows && !c.expected.error) {
    if (error) throw new Error(`expected rows, got ${error.code}: ${error.message}`)
    c.expected.rows.forEach((r, i) => known(r, ['id', 'fields'], `rows[${i}]`))
    assert.deepEqual(result.rows, c.expected.rows, 'rows')
    assert.deepEqual(infoOf(result.info), c.expected.info, 'info')
    assert.equal(result.notModified, c.expected.not_modified, 'not_modified')
  } else if (c.expected.error && !c.expected.rows) {
    if (!error) throw new Error(`expected error ${c.expected.error.code}, got ${result.rows.length} rows`)
    checkError(error, c.expected.error)
  } else {
    throw new Error('`expected` needs exactly one of `rows` and `error`')
  }
}

function checkResponse(c) {
  if (c.operation === 'get_related') return checkReadResponse(c)
  if (c.operation !== undefined && c.operation !== 'update_related' && c.operation !== 'delete_related') {
    throw new Error(`unknown operation ${c.operation}`)
  }
  known(c, ['name', 'note', 'operation', 'status', 'content_type', 'body', 'records_sent', 'expected'], 'case')
  known(c.expected, ['outcomes', 'error'], 'expected')
  let outcomes
  let error
  try {
    outcomes = zcrm.parseOutcomes(c.status, c.content_type, c.body, c.records_sent)
  } catch (e) {
    error = e
  }
  const { outcomes: want, error: wantError } = c.expected
  if (want && !wantError) {
    if (error) throw new Error(`expected outcomes, got ${error.code}: ${error.message}`)
    assert.equal(outcomes.length, want.length, 'number of outcomes')
    want.forEach((w, i) => {
      known(w, ['index', 'ok', 'code', 'message', 'details'], `outcomes[${i}]`)
      assert.equal(w.index, i, `outcomes[${i}].index (file)`)
      const o = outcomes[i]
      assert.equal(o.index, w.index, `outcomes[${i}].index`)
      assert.equal(o.ok, w.ok, `outcomes[${i}].ok`)
      assert.equal(o.code, w.code, `outcomes[${i}].code`)
      if (w.message !== undefined) assert.equal(o.message, w.message, `outcomes[${i}].message`)
      if (w.details !== undefined) assert.deepEqual(o.details, w.details, `outcomes[${i}].details`)
    })
  } else if (wantError && !want) {
    if (!error) throw new Error(`expected error ${wantError.kind} ${wantError.code}, got ${outcomes.length} outcomes`)
    checkError(error, wantError)
  } else {
    throw new Error('`expected` needs exactly one of `outcomes` and `error`')
  }
}

test('conformance: every file in tests/conformance is run here', () => {
  const files = readdirSync(dir).filter((f) => f.endsWith('.json')).sort()
  // records_*.json run in records-conformance.test.mjs; api.json (the names of both packages) in api-names.test.mjs.
  assert.deepEqual(
    files,
    ['api.json', 'records_requests.json', 'records_responses.json', 'requests.json', 'responses.json'],
    'a new conformance file needs a runner',
  )
})

test('conformance: requests.json', (t) => {
  const cases = load('requests.json')
  assert.ok(cases.some((c) => c.expected), 'requests.json has no valid-request cases')
  assert.ok(cases.some((c) => c.expected_error), 'requests.json has no invalid-input cases')
  t.diagnostic(`requests.json: ${runAll('requests.json', cases, checkRequest)} cases`)
})

test('conformance: responses.json', (t) => {
  const cases = load('responses.json')
  t.diagnostic(`responses.json: ${runAll('responses.json', cases, checkResponse)} cases`)
})

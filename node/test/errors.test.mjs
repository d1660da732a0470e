// Every documented failure -> a ZcrmError with a stable code, the HTTP status and Zoho's details.
import { test } from 'node:test'
import assert from 'node:assert/strict'

import { SEED, rejection, startEmulator, staticClient, zcrm } from './support.mjs'

const linkDeal3 = {
  module: 'Contacts',
  parent: { field: 'External_Contact_ID', value: SEED.contactExt },
  relatedList: 'Deals',
  relatedField: 'External_Deal_ID',
  records: [{ External_Deal_ID: SEED.deal3Ext, Contact_Role: SEED.role }],
}

const table = new Map(zcrm.errorCodes().map((c) => [c.code, c]))

function assertZcrm(e, fields) {
  assert.ok(e instanceof zcrm.ZcrmError, `not a ZcrmError: ${e}`)
  assert.ok(e instanceof Error)
  assert.equal(e.name, 'ZcrmError')
  for (const [k, v] of Object.entries(fields)) assert.deepEqual(e[k], v, `${k} of ${e.message}`)
  // Category and retryable come from the core's table (and, for a 429 or 5xx, the status).
  const known = table.get(e.code)
  assert.ok(known, `${e.code} is in errorCodes()`)
  assert.equal(e.category, known.category)
  assert.equal(e.retryable, known.retryable || e.status === 429 || e.status >= 500)
}

test('OAUTH_SCOPE_MISMATCH: a token with only ZohoCRM.modules.leads.ALL', async (t) => {
  const emu = startEmulator(t)
  emu.addAccessToken('1000.leads.only', ['ZohoCRM.modules.leads.ALL'])
  const client = new zcrm.Client({ accessToken: '1000.leads.only', baseUrl: emu.baseUrl })
  const e = await rejection(client.updateRelated(linkDeal3))
  assertZcrm(e, { code: 'OAUTH_SCOPE_MISMATCH', kind: 'Api', status: 401, details: {} })
  assert.match(e.hint, /ZohoCRM\.modules\.contacts/i)
  assert.equal(typeof e.apiMessage, 'string')
})

test('INVALID_TOKEN: a static token after expireTokens() (no refresh possible)', async (t) => {
  const emu = startEmulator(t)
  const client = staticClient(emu)
  await client.updateRelated(linkDeal3)
  emu.expireTokens()
  const e = await rejection(client.updateRelated(linkDeal3))
  assertZcrm(e, { code: 'INVALID_TOKEN', kind: 'Api', status: 401, details: {} })
})

test('INVALID_TOKEN with the refresh grant: refreshed once and resent, so it succeeds', async (t) => {
  const emu = startEmulator(t)
  const client = new zcrm.Client(emu.clientOptions())
  await client.updateRelated(linkDeal3)
  emu.expireTokens()
  const r = await client.updateRelated(linkDeal3)
  assert.equal(r.allSucceeded, true)
  assert.equal(emu.stats().tokensIssued, 2)
})

test('INVALID_MODULE with resource_path_index 0', async (t) => {
  const emu = startEmulator(t)
  const e = await rejection(staticClient(emu).updateRelated({ ...linkDeal3, module: 'Widgets' }))
  assertZcrm(e, { code: 'INVALID_MODULE', kind: 'Api', status: 400, details: { resource_path_index: 0 } })
})

test('INVALID_DATA for an unknown parent external value, with resource_path_index', async (t) => {
  const emu = startEmulator(t)
  const e = await rejection(
    staticClient(emu).updateRelated({ ...linkDeal3, parent: { field: 'External_Contact_ID', value: 'nobody' } }),
  )
  assertZcrm(e, { code: 'INVALID_DATA', kind: 'Api', status: 400 })
  assert.deepEqual(e.details, { api_name: 'External_Contact_ID', resource_path_index: 1 })
  const list = await rejection(staticClient(emu).updateRelated({ ...linkDeal3, relatedList: 'Nope' }))
  assertZcrm(list, { code: 'INVALID_DATA', status: 400, details: { resource_path_index: 2 } })
})

test("Zoho's own codes pass through: MANDATORY_NOT_FOUND as a request-level error", async (t) => {
  const emu = startEmulator(t)
  const body = '{"code":"MANDATORY_NOT_FOUND","details":{"api_name":"data"},"message":"required field not found","status":"error"}'
  emu.pushFault({ kind: 'status', status: 400, body })
  const e = await rejection(staticClient(emu).updateRelated(linkDeal3))
  assertZcrm(e, { code: 'MANDATORY_NOT_FOUND', status: 400, details: { api_name: 'data' }, apiMessage: 'required field not found' })
})

test('NO_PERMISSION for a module the profile may not edit (custom seed)', async (t) => {
  const seed = {
    modules: {
      Contacts: { external_fields: ['External_Contact_ID'], editable: false, records: [{ id: '1', External_Contact_ID: 'c1' }] },
      Deals: { external_fields: ['External_Deal_ID'], records: [{ id: '2', External_Deal_ID: 'd1' }] },
    },
    related_lists: [{ module: 'Contacts', api_name: 'Deals' }],
    access_tokens: [{ token: 'tok' }],
  }
  const emu = startEmulator(t, { seed })
  const client = new zcrm.Client({ accessToken: 'tok', baseUrl: emu.baseUrl })
  const e = await rejection(client.updateRelated({ module: 'Contacts', parent: '1', relatedList: 'Deals', records: [{ id: '2' }] }))
  assertZcrm(e, { code: 'NO_PERMISSION', status: 403 })
})

test('TOO_MANY_REQUESTS when the credits run out', async (t) => {
  const emu = startEmulator(t, { credits: 0 })
  const e = await rejection(staticClient(emu, { maxRetries: 0 }).updateRelated(linkDeal3))
  assertZcrm(e, { code: 'TOO_MANY_REQUESTS', kind: 'Api', status: 429 })
})

test('an HTML 502 from a proxy -> UNEXPECTED_RESPONSE with status 502, after the retries', async (t) => {
  const emu = startEmulator(t)
  emu.pushFault({ kind: 'status', status: 502, forever: true })
  const e = await rejection(staticClient(emu, { maxRetries: 2 }).updateRelated(linkDeal3))
  assertZcrm(e, { code: 'UNEXPECTED_RESPONSE', kind: 'UnexpectedResponse', status: 502, details: {} })
  assert.match(e.bodyPrefix, /^<html>/)
  assert.equal(e.contentType, 'text/html')
  assert.equal(emu.journal().filter((j) => j.method === 'PUT').length, 3, 'the first call and two retries')
})

test('a 500 then success: retried transparently', async (t) => {
  const emu = startEmulator(t)
  emu.pushFault({ kind: 'status', status: 500 })
  const r = await staticClient(emu).updateRelated(linkDeal3)
  assert.equal(r.allSucceeded, true)
  assert.deepEqual(emu.journal().map((j) => j.status), [500, 200])
})

test('a refused connection -> TRANSPORT', async (t) => {
  const emu = zcrm.Emulator.start()
  const baseUrl = emu.baseUrl
  emu.stop()
  const client = new zcrm.Client({ accessToken: SEED.token, baseUrl, maxRetries: 0 })
  const e = await rejection(client.updateRelated(linkDeal3))
  assertZcrm(e, { code: 'TRANSPORT', kind: 'Transport', status: undefined, details: {} })
  assert.equal(e.category, 'network')
  assert.equal(e.retryable, true)
  // The I/O error underneath is kept as the cause.
  assert.equal(e.cause.kind, 'ConnectionRefused')
  assert.equal(typeof e.cause.errno, 'number')
})

test('a dropped connection -> TRANSPORT', async (t) => {
  const emu = startEmulator(t)
  emu.pushFault({ kind: 'drop', forever: true })
  const e = await rejection(staticClient(emu, { maxRetries: 0 }).updateRelated(linkDeal3))
  assertZcrm(e, { code: 'TRANSPORT', kind: 'Transport' })
})

test('a slow answer -> TIMEOUT', async (t) => {
  const emu = startEmulator(t)
  emu.pushFault({ kind: 'latency', ms: 1500 })
  const client = staticClient(emu, { readTimeoutMs: 200, maxRetries: 0 })
  const started = Date.now()
  const e = await rejection(client.updateRelated(linkDeal3))
  assertZcrm(e, { code: 'TIMEOUT', kind: 'Timeout', status: undefined })
  assert.ok(Date.now() - started < 1400, 'gave up at the read timeout')
})

test('a wrong client secret -> OAUTH_INVALID_CLIENT, with a hint and no secret in it', async (t) => {
  const emu = startEmulator(t)
  const client = new zcrm.Client({ ...emu.clientOptions(), clientSecret: 'wrong-secret-123' })
  const e = await rejection(client.updateRelated(linkDeal3))
  assertZcrm(e, { code: 'OAUTH_INVALID_CLIENT', kind: 'Auth', oauthError: 'invalid_client' })
  assert.equal(typeof e.status, 'number')
  assert.match(e.hint, /client id or secret/)
  assert.doesNotMatch(`${e.message} ${e.stack} ${JSON.stringify(e)}`, /wrong-secret-123|emulator\.refresh\.token/)
  assert.equal(emu.journal().filter((j) => j.method === 'PUT').length, 0)
})

test('a wrong refresh token -> OAUTH_INVALID_CODE', async (t) => {
  const emu = startEmulator(t)
  const client = new zcrm.Client({ ...emu.clientOptions(), refreshToken: '1000.not.a.token' })
  const e = await rejection(client.updateRelated(linkDeal3))
  assertZcrm(e, { code: 'OAUTH_INVALID_CODE', kind: 'Auth', oauthError: 'invalid_code' })
})

test('parseOutcomes: a response obtained by other means', () => {
  const body = '{"data":[{"code":"SUCCESS","details":{"id":"1"},"message":"relation added","status":"success"}]}'
  assert.deepEqual(zcrm.parseOutcomes(200, 'application/json', body, 1), [
    { index: 0, ok: true, code: 'SUCCESS', message: 'relation added', details: { id: '1' }, id: '1' },
  ])
  assert.deepEqual(zcrm.parseOutcomes(200, null, Buffer.from(body), 1)[0].id, '1')
  assert.throws(() => zcrm.parseOutcomes(200, 'application/json', body, 2), { code: 'UNEXPECTED_RESPONSE', status: 200 })
  assert.throws(() => zcrm.parseOutcomes(204, null, '', 1), { code: 'NO_CONTENT', kind: 'Api', status: 204 })
})

// The in-process emulator's test API: state, reset, faults, tokens, records, stop.
import { test } from 'node:test'
import assert from 'node:assert/strict'

import { SEED, rejection, startEmulator, staticClient, zcrm } from './support.mjs'

const link = { module: 'Contacts', parent: SEED.contactId, relatedList: 'Deals', records: [{ id: SEED.deal3Id, Contact_Role: SEED.role }] }

test('state(), stats() and reset()', async (t) => {
  const emu = startEmulator(t)
  assert.match(emu.baseUrl, /^http:\/\/127\.0\.0\.1:\d+$/)
  assert.equal(emu.accountsUrl, `${emu.baseUrl}/accounts`)
  assert.deepEqual(emu.clientOptions(), {
    clientId: '1000.EMULATORCLIENTID',
    clientSecret: SEED.clientSecret,
    refreshToken: SEED.refreshToken,
    baseUrl: emu.baseUrl,
    accountsUrl: emu.accountsUrl,
  })
  await staticClient(emu).updateRelated(link)
  const state = emu.state()
  assert.ok(state.modules.Contacts.records.some((r) => r.External_Contact_ID === SEED.contactExt))
  assert.equal(state.stats.api_calls, 1)
  assert.deepEqual(emu.stats(), { ...emu.stats(), apiCalls: 1, creditsUsed: 1, tokensIssued: 0 })
  assert.equal(emu.related('Contacts', SEED.contactId, 'Deals').length, 1)
  emu.reset()
  assert.equal(emu.related('Contacts', SEED.contactId, 'Deals').length, 0)
  assert.equal(emu.stats().apiCalls, 0)
  assert.deepEqual(emu.journal(), [])
})

test('pushFault / clearFaults, and bad faults are refused', async (t) => {
  const emu = startEmulator(t)
  emu.pushFault({ kind: 'status', status: 503, forever: true })
  emu.clearFaults()
  assert.equal((await staticClient(emu).updateRelated(link)).status, 200)
  assert.throws(() => emu.pushFault({ kind: 'teleport' }), { code: 'INVALID_INPUT', argument: 'fault' })
  emu.pushFault({ kind: 'status', status: 429, headers: [['Retry-After', '0']] })
  const r = await staticClient(emu).updateRelated(link)
  assert.equal(r.status, 200)
  assert.deepEqual(emu.journal().map((e) => e.status), [200, 429, 200])
})

test('addAccessToken with an expiry, insertRecords all-or-nothing, findExternal', async (t) => {
  const emu = startEmulator(t)
  emu.addAccessToken('1000.short', ['ZohoCRM.modules.all'], 60)
  const r = await new zcrm.Client({ accessToken: '1000.short', baseUrl: emu.baseUrl }).updateRelated(link)
  assert.equal(r.allSucceeded, true)
  assert.throws(() => emu.insertRecords('Deals', [{ External_Deal_ID: 'new1' }, { id: 'x1' }]), { code: 'INVALID_INPUT', argument: 'records' })
  assert.equal(emu.findExternal('Deals', 'External_Deal_ID', 'new1'), null)
  assert.throws(() => emu.insertRecords('Nope', [{}]), { code: 'INVALID_INPUT' })
})

test('an edition preset sets the concurrency limit', async (t) => {
  const emu = startEmulator(t, { edition: 'free', latencyMs: 200 })
  const client = staticClient(emu, { maxRetries: 0 })
  const results = await Promise.allSettled(Array.from({ length: 8 }, () => client.updateRelated(link)))
  const limited = results.filter((r) => r.status === 'rejected')
  const pool = Number(process.env.UV_THREADPOOL_SIZE ?? 4)
  if (pool >= 8) assert.ok(limited.length > 0 && limited.every((r) => r.reason.code === 'TOO_MANY_REQUESTS'))
  assert.ok(emu.stats().maxInFlight <= 5)
})

test('after stop() the emulator refuses calls, and methods throw', async (t) => {
  const emu = zcrm.Emulator.start()
  const client = staticClient(emu, { maxRetries: 0 })
  emu.stop()
  emu.stop()
  for (const call of [() => emu.stats(), () => emu.state(), () => emu.baseUrl, () => emu.client()]) {
    assert.throws(call, (e) => {
      assert.equal(e.code, 'ERR_INVALID_STATE')
      assert.match(e.message, /^Emulator\.\w+\(\): this emulator was stopped \(stop\(\) was called\); start another/)
      return true
    })
  }
  assert.throws(() => emu.state(), { message: /^Emulator\.state\(\)/ }, 'the message names the method')
  assert.equal((await rejection(client.updateRelated(link))).code, 'TRANSPORT')
})

test('client(), revokeRefreshToken and addRefreshToken (as in Python)', async (t) => {
  const emu = startEmulator(t)
  const client = emu.client({ maxRetries: 0 })
  assert.equal(client.baseUrl, emu.baseUrl)
  assert.equal((await client.updateRelated(link)).allSucceeded, true)
  emu.addRefreshToken('1000.other', 'other-secret', '1000.other.refresh', ['ZohoCRM.modules.all'])
  const other = new zcrm.Client({
    clientId: '1000.other', clientSecret: 'other-secret', refreshToken: '1000.other.refresh',
    baseUrl: emu.baseUrl, accountsUrl: emu.accountsUrl, maxRetries: 0,
  })
  assert.equal((await other.updateRelated(link)).allSucceeded, true)
  assert.equal(emu.revokeRefreshToken(SEED.refreshToken), true)
  assert.equal(emu.revokeRefreshToken('1000.unknown'), false)
  emu.expireTokens()
  const e = await rejection(emu.client({ maxRetries: 0 }).updateRelated(link))
  assert.deepEqual([e.code, e.category], ['OAUTH_INVALID_CODE', 'auth'])
})

test('Client.fromEnv takes settings that win over the environment', async (t) => {
  const emu = startEmulator(t)
  const keys = ['ZOHO_ACCESS_TOKEN', 'ZOHO_BASE_URL']
  const saved = keys.map((k) => process.env[k])
  t.after(() => keys.forEach((k, i) => (saved[i] === undefined ? delete process.env[k] : (process.env[k] = saved[i]))))
  process.env.ZOHO_ACCESS_TOKEN = SEED.token
  process.env.ZOHO_BASE_URL = 'http://127.0.0.1:9'
  const client = zcrm.Client.fromEnv({ baseUrl: emu.baseUrl, apiVersion: 'v8' })
  assert.deepEqual([client.baseUrl, client.apiVersion], [emu.baseUrl, 'v8'])
  assert.equal((await client.updateRelated(link)).allSucceeded, true)
  assert.throws(() => zcrm.Client.fromEnv({ accessToken: 'x' }), { code: 'INVALID_INPUT', field: 'accessToken' })
})

// Invalid input is refused before anything is sent (the emulator's journal stays empty), with the location.
import { test } from 'node:test'
import assert from 'node:assert/strict'

import { SEED, rejection, startEmulator, zcrm } from './support.mjs'

const valid = {
  module: 'Contacts',
  parent: { field: 'External_Contact_ID', value: SEED.contactExt },
  relatedList: 'Deals',
  relatedField: 'External_Deal_ID',
  records: [{ External_Deal_ID: SEED.deal3Ext }],
}

const cases = [
  ['a record without the related field', { records: [{ External_Deal_ID: 'a' }, { Contact_Role: 'r' }] },
    { argument: 'data', index: 1, field: 'External_Deal_ID', location: 'data[1].External_Deal_ID' }],
  ['a record that is not an object', { records: [{ External_Deal_ID: 'a' }, 'b'] }, { argument: 'data', index: 1, location: 'data[1]' }],
  ['a record that is not JSON', { records: [{ External_Deal_ID: 'a', f: () => 1 }] }, { argument: 'data', index: 0, location: 'data[0]' }],
  ['no records', { records: [] }, { argument: 'data', location: 'data' }],
  ['101 records', { records: Array.from({ length: 101 }, (_, i) => ({ External_Deal_ID: `d${i}` })) }, { argument: 'data', location: 'data' }],
  ['a module name with a slash', { module: 'Con/tacts' }, { argument: 'module', location: 'module' }],
  ['a parent id that is not digits', { parent: 'abc' }, { argument: 'parent.id', location: 'parent.id' }],
  ['an empty parent value', { parent: { field: 'External_Contact_ID', value: '' } }, { argument: 'parent.value', location: 'parent.value' }],
  ['a parent id given as a number', { parent: 111111000000085009 }, { argument: 'args', field: 'parent', location: 'args.parent' }],
  ['no module', { module: undefined }, { argument: 'args', field: 'module', location: 'args.module' }],
]

for (const [name, change, want] of cases) {
  test(`INVALID_INPUT before any request: ${name}`, async (t) => {
    const emu = startEmulator(t)
    const client = new zcrm.Client(emu.clientOptions())
    const pending = client.updateRelated({ ...valid, ...change })
    assert.ok(pending instanceof Promise, 'rejects, never throws synchronously')
    const e = await rejection(pending)
    assert.ok(e instanceof zcrm.ZcrmError)
    assert.equal(e.code, 'INVALID_INPUT')
    assert.equal(e.kind, 'InvalidInput')
    assert.equal(e.status, undefined)
    assert.deepEqual(e.details, {})
    for (const [k, v] of Object.entries(want)) assert.equal(e[k], v, `${k}: ${e.message}`)
    if (!('index' in want)) assert.equal(e.index, undefined)
    assert.throws(() => client.prepareUpdateRelated({ ...valid, ...change }), { code: 'INVALID_INPUT', location: want.location })
    assert.deepEqual(emu.journal(), [], 'nothing was sent, not even a token request')
    assert.equal(emu.stats().tokensIssued, 0)
  })
}

const configCases = [
  ['an unknown data centre', { accessToken: 't', dataCenter: 'mars' }, 'data_center'],
  ['an unknown API version', { accessToken: 't', apiVersion: 'v99' }, 'api_version'],
  ['an http base URL that is not loopback', { accessToken: 't', baseUrl: 'http://10.1.1.1' }, 'base_url'],
  ['both kinds of credentials', { accessToken: 't', clientId: 'id' }, 'credentials'],
  ['an incomplete refresh grant', { clientId: 'id', clientSecret: 's' }, 'credentials'],
  ['no credentials', {}, 'credentials'],
  ['a token with a space', { accessToken: 'a b' }, 'access_token'],
  ['a token that is not a string', { accessToken: 1000 }, 'access_token'],
  ['a negative timeout', { accessToken: 't', readTimeoutMs: -1 }, 'read_timeout'],
  ['a fractional retry count', { accessToken: 't', maxRetries: 1.5 }, 'max_retries'],
  ['a timeout of the wrong type', { accessToken: 't', connectTimeoutMs: '10' }, 'connect_timeout_ms'],
]

for (const [name, options, setting] of configCases) {
  test(`new Client throws INVALID_CONFIG: ${name}`, () => {
    assert.throws(() => new zcrm.Client(options), (e) => {
      assert.ok(e instanceof zcrm.ZcrmError)
      assert.equal(e.code, 'INVALID_CONFIG')
      assert.equal(e.kind, 'InvalidConfig')
      assert.equal(e.setting, setting, e.message)
      return true
    })
  })
}

test('new Client throws INVALID_CONFIG for options that are not an object', () => {
  assert.throws(() => new zcrm.Client('1000.token'), { code: 'INVALID_CONFIG', setting: 'options' })
})

test('prepareUpdateRelated (function) validates the settings it is given', () => {
  assert.throws(() => zcrm.prepareUpdateRelated({ ...valid, apiVersion: 'v1' }), { code: 'INVALID_CONFIG', setting: 'api_version' })
  assert.throws(() => zcrm.prepareUpdateRelated({ ...valid, baseUrl: 'ftp://x' }), { code: 'INVALID_CONFIG', setting: 'base_url' })
  assert.throws(() => zcrm.prepareUpdateRelated({ ...valid, accessToken: 'a\nb' }), { code: 'INVALID_CONFIG', setting: 'access_token' })
})

test('Emulator.start refuses bad options with INVALID_CONFIG', () => {
  assert.throws(() => zcrm.Emulator.start({ edition: 'galactic' }), { code: 'INVALID_CONFIG', setting: 'edition' })
  assert.throws(() => zcrm.Emulator.start({ seed: { modules: 3 } }), { code: 'INVALID_CONFIG', setting: 'seed' })
  assert.throws(() => zcrm.Emulator.start({ latencyMs: -5 }), { code: 'INVALID_CONFIG', setting: 'latency_ms' })
})

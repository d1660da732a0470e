// Secrets never print: not in util.inspect / JSON.stringify of a client, in errors, or in toCurl().
import { test } from 'node:test'
import assert from 'node:assert/strict'
import util from 'node:util'

import { SEED, rejection, startEmulator, zcrm } from './support.mjs'

const args = { module: 'Contacts', parent: SEED.contactId, relatedList: 'Deals', records: [{ id: SEED.deal3Id }] }
const SECRET = /emulator-client-secret|emulator\.refresh\.token|1000\.8cb99d|s3cr3t/

function assertClean(text, where) {
  assert.doesNotMatch(text, SECRET, `${where} shows a secret: ${text}`)
}

test('a client shows no credential in util.inspect, JSON.stringify or String()', (t) => {
  const emu = startEmulator(t)
  for (const client of [new zcrm.Client(emu.clientOptions()), new zcrm.Client({ accessToken: SEED.token, baseUrl: emu.baseUrl })]) {
    const shown = [util.inspect(client), util.inspect(client, { showHidden: true, depth: 10 }), JSON.stringify(client), String(client), `${Object.keys(client)}`]
    for (const s of shown) assertClean(s, 'client')
    assert.match(util.inspect(client), /base_url/)
  }
})

test('prepared requests redact the token in headers, toCurl(), JSON and util.inspect', () => {
  const p = zcrm.prepareUpdateRelated({ ...args, accessToken: SEED.token })
  for (const s of [p.toCurl(), JSON.stringify(p), util.inspect(p), JSON.stringify(p.headers)]) assertClean(s, 'request')
  assert.match(p.toCurl(), /Zoho-oauthtoken \*\*\*/)
})

test('errors carry no secret: token endpoint refusals, API errors, bad options', async (t) => {
  const emu = startEmulator(t)
  const seen = []
  const badSecret = new zcrm.Client({ ...emu.clientOptions(), clientSecret: 's3cr3t-value' })
  seen.push(await rejection(badSecret.updateRelated(args)))
  emu.addAccessToken('1000.leads.s3cr3t', ['ZohoCRM.modules.leads.ALL'])
  seen.push(await rejection(new zcrm.Client({ accessToken: '1000.leads.s3cr3t', baseUrl: emu.baseUrl }).updateRelated(args)))
  for (const options of [{ accessToken: 's3cr3t with space' }, { accessToken: 's3cr3t', clientId: 'x' }, { clientSecret: 's3cr3t' }, { accessToken: ['s3cr3t'] }]) {
    try {
      new zcrm.Client(options)
      assert.fail('expected INVALID_CONFIG')
    } catch (e) {
      seen.push(e)
    }
  }
  for (const e of seen) {
    assert.ok(e instanceof zcrm.ZcrmError, String(e))
    for (const s of [e.message, e.stack, util.inspect(e), JSON.stringify(e), String(e.hint)]) assertClean(s, e.code)
  }
  // The emulator's journal redacts the Authorization header too.
  for (const entry of emu.journal()) assertClean(JSON.stringify(entry), "journal")
})

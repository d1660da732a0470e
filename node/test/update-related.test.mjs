// updateRelated against the emulator: the seed page's three cases, plain ids, 207 partial results, ids as strings.
import { test } from 'node:test'
import assert from 'node:assert/strict'

import { SEED, contactDeals, startEmulator, staticClient, zcrm } from './support.mjs'

const contactExt = { field: 'External_Contact_ID', value: SEED.contactExt }

test('seed case A: contact and deal both by external id', async (t) => {
  const emu = startEmulator(t)
  const client = new zcrm.Client(emu.clientOptions())
  const r = await client.updateRelated({
    module: 'Contacts',
    parent: contactExt,
    relatedList: 'Deals',
    relatedField: 'External_Deal_ID',
    records: [{ External_Deal_ID: SEED.deal3Ext, Contact_Role: SEED.role }],
  })
  assert.equal(r.status, 200)
  assert.equal(r.allSucceeded, true)
  assert.deepEqual(r.outcomes, [
    {
      index: 0,
      ok: true,
      code: 'SUCCESS',
      message: 'relation added',
      details: { External_Deal_ID: SEED.deal3Ext, id: SEED.deal3Id },
      id: SEED.deal3Id,
    },
  ])
  assert.deepEqual(contactDeals(emu), { [SEED.deal3Id]: SEED.role })
  const put = emu.journal().find((e) => e.method === 'PUT')
  assert.equal(put.path, '/crm/v5/Contacts/extcontact3/Deals')
  assert.deepEqual(put.headers.find(([n]) => n === 'x-external'), ['x-external', 'Contacts.External_Contact_ID,Deals.External_Deal_ID'])
})

test('seed case B: contact by record id, deal by external id', async (t) => {
  const emu = startEmulator(t)
  const client = staticClient(emu)
  const r = await client.updateRelated({
    module: 'Contacts',
    parent: SEED.contactId,
    relatedList: 'Deals',
    relatedField: 'External_Deal_ID',
    records: [{ Contact_Role: SEED.role, External_Deal_ID: SEED.deal3Ext }],
  })
  assert.equal(r.outcomes[0].id, SEED.deal3Id)
  assert.deepEqual(contactDeals(emu), { [SEED.deal3Id]: SEED.role })
  const put = emu.journal().find((e) => e.method === 'PUT')
  assert.equal(put.path, `/crm/v5/Contacts/${SEED.contactId}/Deals`)
  assert.deepEqual(put.headers.find(([n]) => n === 'x-external'), ['x-external', 'Deals.External_Deal_ID'])
})

test('seed case C: contact by external id, deal by record id', async (t) => {
  const emu = startEmulator(t)
  const r = await staticClient(emu).updateRelated({
    module: 'Contacts',
    parent: contactExt,
    relatedList: 'Deals',
    records: [{ id: SEED.deal3Id, Contact_Role: SEED.role }],
  })
  assert.equal(r.outcomes[0].ok, true)
  assert.deepEqual(contactDeals(emu), { [SEED.deal3Id]: SEED.role })
  const put = emu.journal().find((e) => e.method === 'PUT')
  assert.deepEqual(put.headers.find(([n]) => n === 'x-external'), ['x-external', 'Contacts.External_Contact_ID'])
})

test('plain ids: no X-EXTERNAL header', async (t) => {
  const emu = startEmulator(t)
  const r = await staticClient(emu).updateRelated({
    module: 'Contacts',
    parent: SEED.contactId,
    relatedList: 'Deals',
    records: [{ id: SEED.deal2Id }],
  })
  assert.equal(r.outcomes[0].id, SEED.deal2Id)
  assert.deepEqual(Object.keys(contactDeals(emu)), [SEED.deal2Id])
  const put = emu.journal().find((e) => e.method === 'PUT')
  assert.equal(put.headers.find(([n]) => n === 'x-external'), undefined)
})

test('207: partial results, one outcome per record in input order', async (t) => {
  const emu = startEmulator(t)
  const r = await staticClient(emu).updateRelated({
    module: 'Contacts',
    parent: contactExt,
    relatedList: 'Deals',
    relatedField: 'External_Deal_ID',
    records: [
      { External_Deal_ID: SEED.deal3Ext, Contact_Role: SEED.role },
      { External_Deal_ID: 'no-such-deal' },
      { External_Deal_ID: SEED.deal2Ext },
    ],
  })
  assert.equal(r.status, 207)
  assert.equal(r.allSucceeded, false)
  assert.deepEqual(r.outcomes.map((o) => [o.index, o.ok, o.code]), [
    [0, true, 'SUCCESS'],
    [1, false, 'INVALID_DATA'],
    [2, true, 'SUCCESS'],
  ])
  assert.equal(r.outcomes[1].details.api_name, 'External_Deal_ID')
  assert.equal(r.outcomes[1].id, undefined)
  assert.deepEqual(r.outcomes.map((o) => o.id), [SEED.deal3Id, undefined, SEED.deal2Id])
  assert.deepEqual(Object.keys(contactDeals(emu)).sort(), [SEED.deal3Id, SEED.deal2Id].sort())
})

test('ids are strings, never Number or BigInt', async (t) => {
  const emu = startEmulator(t)
  const r = await staticClient(emu).updateRelated({
    module: 'Contacts',
    parent: SEED.contactId,
    relatedList: 'Deals',
    records: [{ id: SEED.deal3Id }, { id: SEED.deal2Id }],
  })
  for (const o of r.outcomes) {
    assert.equal(typeof o.id, 'string')
    assert.equal(typeof o.details.id, 'string')
  }
  for (const rel of emu.related('Contacts', SEED.contactId, 'Deals')) assert.equal(typeof rel.id, 'string')
  assert.equal(typeof emu.findExternal('Deals', 'External_Deal_ID', SEED.deal3Ext), 'string')
  assert.equal(emu.findExternal('Deals', 'External_Deal_ID', 'nope'), null)
  const [newId] = emu.insertRecords('Deals', [{ External_Deal_ID: 'extdeal9', Amount: 5000000000 }])
  assert.equal(typeof newId, 'string')
  // A JS whole number above 2^32 goes out as an integer, not 5000000000.0.
  const p = staticClient(emu).prepareUpdateRelated({
    module: 'Contacts',
    parent: SEED.contactId,
    relatedList: 'Deals',
    records: [{ id: newId, Contact_Role: 5000000000 }],
  })
  assert.equal(p.body, `{"data":[{"id":"${newId}","Contact_Role":5000000000}]}`)
})

test('prepareUpdateRelated: the request, without I/O or a token fetch', async (t) => {
  const emu = startEmulator(t)
  const client = new zcrm.Client(emu.clientOptions())
  const args = {
    module: 'Contacts',
    parent: { field: 'External_Contact_ID', value: 'ERP/7?x#1' },
    relatedList: 'Deals',
    relatedField: 'External_Deal_ID',
    records: [{ External_Deal_ID: SEED.deal3Ext, Contact_Role: SEED.role }],
  }
  const p = client.prepareUpdateRelated(args)
  assert.ok(p instanceof zcrm.PreparedRequest)
  assert.equal(p.method, 'PUT')
  assert.equal(p.url, `${emu.baseUrl}/crm/v5/Contacts/ERP%2F7%3Fx%231/Deals`)
  assert.deepEqual(p.headers, [
    ['X-EXTERNAL', 'Contacts.External_Contact_ID,Deals.External_Deal_ID'],
    ['Content-Type', 'application/json'],
  ])
  assert.equal(p.body, '{"data":[{"External_Deal_ID":"extdeal3","Contact_Role":"111111000000026002"}]}')
  assert.match(p.toCurl(), /-H 'Authorization: Zoho-oauthtoken \*\*\*'/)
  assert.deepEqual(JSON.parse(JSON.stringify(p)), { method: p.method, url: p.url, headers: p.headers, body: p.body })
  assert.deepEqual(emu.journal(), [])
  assert.equal(emu.stats().tokensIssued, 0)

  const top = zcrm.prepareUpdateRelated({ ...args, dataCenter: 'eu', apiVersion: 'v8', accessToken: SEED.token })
  assert.equal(top.url, 'https://www.zohoapis.eu/crm/v8/Contacts/ERP%2F7%3Fx%231/Deals')
  assert.deepEqual(top.headers[0], ['Authorization', 'Zoho-oauthtoken ***'])
  const sandbox = zcrm.prepareUpdateRelated({ ...args, dataCenter: 'jp', environment: 'sandbox' })
  assert.equal(sandbox.url, 'https://sandbox.zohoapis.jp/crm/v5/Contacts/ERP%2F7%3Fx%231/Deals')
})

test('Client options: data centre, version, fromEnv, baseUrl', () => {
  const c = new zcrm.Client({ accessToken: 't', dataCenter: 'au', environment: 'developer', apiVersion: 'v7' })
  assert.equal(c.baseUrl, 'https://developer.zohoapis.com.au')
  assert.equal(c.apiVersion, 'v7')
  assert.deepEqual(JSON.parse(JSON.stringify(c)), { baseUrl: c.baseUrl, apiVersion: 'v7' })
  const saved = { ...process.env }
  try {
    process.env.ZOHO_ACCESS_TOKEN = 'env-token'
    process.env.ZOHO_DC = 'in'
    assert.equal(zcrm.Client.fromEnv().baseUrl, 'https://www.zohoapis.in')
  } finally {
    for (const k of ['ZOHO_ACCESS_TOKEN', 'ZOHO_DC']) {
      if (saved[k] === undefined) delete process.env[k]
      else process.env[k] = saved[k]
    }
  }
})

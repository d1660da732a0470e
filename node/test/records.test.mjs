// Records by external ID from Node against the emulator: round trips, per-record errors, 204, NOT_ALLOWED
// before sending, Dates, paging and search.
import { test } from 'node:test'
import assert from 'node:assert/strict'

import { SEED, rejection, startEmulator, zcrm } from './support.mjs'

const ACCOUNT = '111111000000101039' // External_Account_ID = externalaccount1 (default seed)
const contacts = (emu) => emu.state().modules.Contacts.records
const byExt = (emu, v) => contacts(emu).filter((r) => r.External_Contact_ID === v)

test('insert, get, update, upsert, delete round trip', async (t) => {
  const emu = startEmulator(t)
  const client = new zcrm.Client(emu.clientOptions())
  const ins = await client.insertRecords({
    module: 'Contacts',
    records: [
      { Last_Name: 'Boyle', External_Contact_ID: 'c1', Account_Name: { External_Account_ID: 'externalaccount1' } },
      { Last_Name: 'Smith', External_Contact_ID: 'c2' },
    ],
    externalFields: ['Accounts.External_Account_ID'],
  })
  assert.deepEqual([ins.status, ins.allSucceeded], [201, true])
  assert.equal(ins.outcomes[0].id, byExt(emu, 'c1')[0].id)
  assert.equal(byExt(emu, 'c1')[0].Account_Name.id, ACCOUNT)

  const one = await client.getRecords({ module: 'Contacts', key: 'External_Contact_ID', ids: 'c1' })
  assert.deepEqual([one.records[0].Last_Name, one.info, one.moreRecords], ['Boyle', undefined, false])

  const upd = await client.updateRecords({ module: 'Contacts', key: 'External_Contact_ID', id: 'c2', records: [{ Phone: '555' }] })
  assert.equal(upd.outcomes[0].details.External_Contact_ID, 'c2')
  assert.equal(byExt(emu, 'c2')[0].Phone, '555')

  const up = await client.upsertRecords({
    module: 'Contacts',
    records: [{ External_Contact_ID: 'c1', Last_Name: 'Boyle2' }, { External_Contact_ID: 'c3', Last_Name: 'New' }],
    duplicateCheckFields: ['External_Contact_ID'],
  })
  assert.deepEqual(up.outcomes.map((o) => [o.action, o.duplicateField]), [['update', 'External_Contact_ID'], ['insert', undefined]])
  assert.equal(up.outcomes[0].id, ins.outcomes[0].id)

  const many = await client.getRecords({ module: 'Contacts', key: 'External_Contact_ID', ids: ['c3', 'c1', 'nobody'], fields: ['Last_Name'] })
  assert.deepEqual(many.records.map((r) => r.Last_Name), ['New', 'Boyle2'])
  assert.equal(many.info.count, 2)

  const del = await client.deleteRecords({ module: 'Contacts', key: 'External_Contact_ID', ids: ['c1', 'c2', 'nobody'] })
  assert.deepEqual(del.outcomes.map((o) => o.code), ['SUCCESS', 'SUCCESS', 'INVALID_DATA'])
  const gone = await client.getRecords({ module: 'Contacts', key: 'External_Contact_ID', ids: 'c1' })
  assert.deepEqual(gone.records, [], 'a 204 is an empty page')
})

test('DUPLICATE_DATA and an unknown lookup are outcomes', async (t) => {
  const emu = startEmulator(t)
  const client = new zcrm.Client(emu.clientOptions())
  const r = await client.insertRecords({
    module: 'Contacts',
    records: [{ Last_Name: 'a', External_Contact_ID: SEED.contactExt }, { Last_Name: 'b', Account_Name: { External_Account_ID: 'nope' } }],
    externalFields: ['Accounts.External_Account_ID'],
  })
  assert.equal(r.status, 400)
  assert.equal(r.outcomes[0].code, 'DUPLICATE_DATA')
  assert.equal(r.outcomes[0].details.duplicate_record.id, SEED.contactId)
  assert.deepEqual([r.outcomes[1].code, r.outcomes[1].details.api_name], ['INVALID_DATA', 'Account_Name'])
})

test('rules are checked before sending: a rejection naming argument, record and field', async (t) => {
  const emu = startEmulator(t)
  const client = new zcrm.Client(emu.clientOptions())
  const cases = [
    [client.updateRecords({ module: 'Contacts', key: 'External_Contact_ID', id: 'extcontact3', records: [{ External_Contact_ID: 'x' }] }), 'data[0].External_Contact_ID'],
    [client.insertRecords({ module: 'Contacts', records: [{ Account_Name: { External_Account_ID: 'a', id: '1' } }], externalFields: ['Accounts.External_Account_ID'] }), 'data[0].Account_Name.id'],
    [client.deleteRecords({ module: 'Contacts', key: 'External_Contact_ID', ids: ['a', 'b,c'] }), 'ids[1]'],
    [client.getRecords({ module: 'Deals' }), 'fields'],
    [client.getRecords({ module: 'Deals', fields: ['Deal_Name'], values: 'x' }), 'values'],
    [client.searchRecords({ module: 'Contacts', key: 'External_Contact_ID', values: [] }), 'values'],
    [client.getRecords({ module: 'Deals', fields: ['Deal_Name'], page: -1 }), 'page'],
  ]
  for (const [promise, location] of cases) {
    const e = await rejection(promise)
    assert.ok(e instanceof zcrm.ZcrmError, String(e))
    assert.deepEqual([e.code, e.location], ['INVALID_INPUT', location], e.message)
  }
  assert.deepEqual(emu.journal(), [], 'nothing was sent')
})

test('a Date is sent as ISO text in UTC; NaN and an invalid Date are left out', (t) => {
  const emu = startEmulator(t)
  const client = new zcrm.Client(emu.clientOptions())
  const p = client.prepareRecords('insert', {
    module: 'Contacts',
    records: [{ Last_Name: 'x', Seen: new Date(Date.UTC(2024, 4, 1, 10, 30, 5, 999)), Phone: NaN, Gone: new Date('nope'), Fax: null }],
  })
  assert.equal(p.body, '{"data":[{"Last_Name":"x","Seen":"2024-05-01T10:30:05+00:00","Fax":null}]}')
})

test('pages, search and the search scope', async (t) => {
  const emu = startEmulator(t)
  const client = new zcrm.Client(emu.clientOptions())
  const records = Array.from({ length: 25 }, (_, i) => ({ External_Contact_ID: `p${String(i).padStart(2, '0')}`, Last_Name: `L${i}` }))
  assert.ok((await client.upsertRecords({ module: 'Contacts', records, duplicateCheckFields: ['External_Contact_ID'] })).allSucceeded)
  const pager = client.recordPages({ module: 'Contacts', fields: ['External_Contact_ID'], perPage: 10 })
  const sizes = []
  for (let page; (page = await pager.next()); ) sizes.push(page.records.length)
  assert.deepEqual(sizes, [10, 10, 6], '25 upserted + extcontact3')
  assert.equal(await pager.next(), null)
  const found = await client.searchRecords({ module: 'Contacts', key: 'External_Contact_ID', values: ['p01', 'p24', 'zz'] })
  assert.deepEqual(found.records.map((r) => r.External_Contact_ID).sort(), ['p01', 'p24'])
  const none = await client.searchRecords({ module: 'Contacts', key: 'External_Contact_ID', values: 'nobody' })
  assert.deepEqual(none.records, [])
  emu.addAccessToken('1000.crm-only', ['ZohoCRM.modules.all'])
  const crmOnly = new zcrm.Client({ accessToken: '1000.crm-only', baseUrl: emu.baseUrl })
  const e = await rejection(crmOnly.searchRecords({ module: 'Contacts', key: 'External_Contact_ID', values: 'p01' }))
  assert.equal(e.code, 'OAUTH_SCOPE_MISMATCH')
  assert.match(e.hint, /ZohoSearch\.securesearch\.READ/)
})

// getRelated / iterRelated / deleteRelated against the emulator over HTTP: the documented samples of spec §2.1
// and §2.2 as sent (journal) and answered, 1,000 related records by page token (v8) and by page (v5), 204 and
// 304, `fields` missing refused before anything is sent, deletes (single, list, 207), hostile external values.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'

import { SEED, rejection, startEmulator, zcrm } from './support.mjs'

const SAMPLES = JSON.parse(readFileSync(new URL('../../crates/zcrm-emulator/seeds/related-samples.json', import.meta.url), 'utf8'))
const contactExt = { field: 'External_Contact_ID', value: SEED.contactExt }

function client(emu, apiVersion) {
  return new zcrm.Client({ ...emu.clientOptions(), apiVersion, maxRetries: 0 })
}

/** The journaled CRM API calls as [method, path?query, X-EXTERNAL]. */
function calls(emu) {
  return emu
    .journal()
    .filter((e) => e.path.startsWith('/crm/'))
    .map((e) => [e.method, e.query ? `${e.path}?${e.query}` : e.path, e.headers.find(([n]) => n === 'x-external')?.[1]])
}

test('the documented list sample', async (t) => {
  const emu = startEmulator(t, { seed: SAMPLES })
  const r = await client(emu, 'v7').getRelated({
    module: 'Contacts',
    parent: { field: 'External_Contact_ID', value: '583472934' },
    relatedList: 'Deals',
    fields: ['Closing_Date', 'Stage', 'Account_Name'],
  })
  assert.deepEqual(calls(emu), [
    ['GET', '/crm/v7/Contacts/583472934/Deals?fields=Closing_Date,Stage,Account_Name', 'Contacts.External_Contact_ID'],
  ])
  assert.equal(r.status, 200)
  assert.equal(r.notModified, false)
  assert.equal(r.rows.length, 1)
  assert.equal(r.rows[0].id, '4876876000002095001')
  assert.deepEqual(r.rows[0].fields, {
    Contact_Role: 11112748204747392,
    Closing_Date: '2022-08-09',
    Stage: 'Closed Won',
    Account_Name: { name: 'Chapman', id: '4876876000001036013' },
  })
  assert.deepEqual(r.info, { perPage: 200, count: 1, page: 1, moreRecords: false })
})

test('the documented single-record sample', async (t) => {
  const emu = startEmulator(t, { seed: SAMPLES })
  const r = await client(emu, 'v7').getRelated({
    module: 'Contacts', parent: contactExt, relatedList: 'Deals', related: 'externaldeal3', relatedField: 'External_Deal_ID',
  })
  assert.deepEqual(calls(emu), [
    ['GET', '/crm/v7/Contacts/extcontact3/Deals/externaldeal3', 'Deals.External_Deal_ID,Contacts.External_Contact_ID'],
  ])
  assert.equal(r.info, undefined)
  assert.deepEqual(r.rows, [
    { id: '111111000000094028', fields: { Contact_Role: '111111000000026002', External_Deal_ID: 'externaldeal3' } },
  ])
})

test('the documented delete sample sends both pairs', async (t) => {
  const emu = startEmulator(t, { seed: SAMPLES })
  const r = await client(emu, 'v8').deleteRelated({
    module: 'Contacts', parent: contactExt, relatedList: 'Deals', values: ['extdeal3'], relatedField: 'External_Deal_ID',
  })
  assert.deepEqual(calls(emu), [
    ['DELETE', '/crm/v8/Contacts/extcontact3/Deals/extdeal3', 'Contacts.External_Contact_ID,Deals.External_Deal_ID'],
  ])
  assert.equal(r.status, 200)
  assert.deepEqual(r.outcomes[0], {
    index: 0, ok: true, code: 'SUCCESS', message: 'relation removed', details: { id: '111111000000094040' }, id: '111111000000094040',
  })
  assert.equal(emu.related('Contacts', SEED.contactId, 'Deals').length, 1)
})

async function linkDeals(emu, n) {
  emu.insertRecords('Deals', Array.from({ length: n }, (_, i) => ({ External_Deal_ID: `d${i}` })))
  const c = client(emu, 'v8')
  for (let start = 0; start < n; start += 100) {
    const records = []
    for (let i = start; i < Math.min(n, start + 100); i++) records.push({ External_Deal_ID: `d${i}` })
    const r = await c.updateRelated({ module: 'Contacts', parent: contactExt, relatedList: 'Deals', relatedField: 'External_Deal_ID', records })
    assert.equal(r.allSucceeded, true)
  }
  emu.clearJournal()
}

for (const [version, paging] of [['v8', 'page_token='], ['v5', 'page=']]) {
  test(`1,000 related records, every one once and in order (${version}, ${paging})`, async (t) => {
    const emu = startEmulator(t)
    await linkDeals(emu, 1000)
    const it = client(emu, version).iterRelated({ module: 'Contacts', parent: contactExt, relatedList: 'Deals', fields: 'External_Deal_ID' })
    assert.equal(typeof it[Symbol.asyncIterator], 'function')
    const names = []
    for await (const row of it) names.push(row.fields.External_Deal_ID)
    assert.deepEqual(names, Array.from({ length: 1000 }, (_, i) => `d${999 - i}`))
    assert.equal(it.pagesFetched, 5)
    const targets = calls(emu).map((c) => c[1])
    assert.equal(targets.length, 5)
    assert.ok(targets.slice(1).every((p) => p.includes(paging)), targets.join('\n'))
    assert.deepEqual(await it.next(), { done: true })
  })
}

test('an error while paging rejects next(); break stops fetching', async (t) => {
  const emu = startEmulator(t)
  await linkDeals(emu, 2001)
  const it = client(emu, 'v5').iterRelated({ module: 'Contacts', parent: contactExt, relatedList: 'Deals', fields: 'Deal_Name' })
  let got = 0
  const e = await rejection((async () => { for await (const _ of it) got++ })())
  assert.equal(got, 2000)
  assert.ok(e instanceof zcrm.ZcrmError)
  assert.equal(e.code, 'LIMIT_EXCEEDED')
  assert.match(e.hint, /v7 or v8/)
  emu.clearJournal()
  const early = client(emu, 'v8').iterRelated({ module: 'Contacts', parent: contactExt, relatedList: 'Deals', fields: 'Deal_Name' })
  for await (const _ of early) break
  assert.deepEqual(await early.next(), { done: true })
  assert.equal(calls(emu).length, 1)
})

test('204 and 304', async (t) => {
  const emu = startEmulator(t, { seed: SAMPLES })
  const c = client(emu, 'v8')
  const none = await c.getRelated({
    module: 'Contacts', parent: contactExt, relatedList: 'Deals', fields: 'Deal_Name', ids: ['no-such'], relatedField: 'External_Deal_ID',
  })
  assert.deepEqual([none.status, none.rows.length, none.info], [204, 0, undefined])
  const since = new Date(Date.UTC(2022, 7, 9, 5, 0, 0)).toISOString()
  const nm = await c.getRelated({ module: 'Contacts', parent: contactExt, relatedList: 'Deals', fields: 'Deal_Name', ifModifiedSince: since })
  assert.deepEqual([nm.notModified, nm.status, nm.rows.length], [true, 304, 0])
  const it = c.iterRelated({ module: 'Contacts', parent: contactExt, relatedList: 'Deals', fields: 'Deal_Name', ifModifiedSince: since })
  assert.deepEqual(await it.next(), { done: true })
  assert.equal(it.notModified, true)
  const sent = emu.journal().flatMap((e) => e.headers.filter(([n]) => n === 'if-modified-since').map(([, v]) => v))
  assert.equal(sent.at(-1), '2022-08-09T05:00:00+00:00')
})

test('fields missing is refused before anything is sent', async (t) => {
  const emu = startEmulator(t, { seed: SAMPLES })
  const c = client(emu, 'v5')
  const args = { module: 'Contacts', parent: contactExt, relatedList: 'Deals' }
  const rejected = await rejection(c.getRelated(args))
  assert.deepEqual([rejected.code, rejected.location], ['INVALID_INPUT', 'fields'])
  for (const call of [() => c.iterRelated(args), () => c.prepareGetRelated(args)]) {
    assert.throws(call, (e) => e instanceof zcrm.ZcrmError && e.location === 'fields')
  }
  assert.deepEqual(emu.journal(), [])
})

test('delete single, list and mixed (207)', async (t) => {
  const emu = startEmulator(t)
  await linkDeals(emu, 5)
  const c = client(emu, 'v8')
  const del = (values) => c.deleteRelated({ module: 'Contacts', parent: contactExt, relatedList: 'Deals', values, relatedField: 'External_Deal_ID' })
  assert.equal((await del(['d0'])).outcomes[0].code, 'SUCCESS')
  assert.equal((await del(['d1', 'd2'])).allSucceeded, true)
  const mixed = await del(['d3', 'nope', 'd1'])
  assert.equal(mixed.status, 207)
  assert.deepEqual(mixed.outcomes.map((o) => [o.index, o.code]), [[0, 'SUCCESS'], [1, 'INVALID_DATA'], [2, 'INVALID_DATA']])
  assert.deepEqual(mixed.outcomes[1].details, { api_name: 'External_Deal_ID' })
  const targets = calls(emu).map((x) => x[1])
  assert.deepEqual(targets.slice(0, 2), ['/crm/v8/Contacts/extcontact3/Deals/d0', '/crm/v8/Contacts/extcontact3/Deals?ids=d1,d2'])
  assert.equal(emu.related('Contacts', SEED.contactId, 'Deals').length, 1)
  const bad = await rejection(del(['a', 'b,c']))
  assert.deepEqual([bad.code, bad.location], ['INVALID_INPUT', 'ids[1]'])
})

test('hostile external values stay one path segment', async (t) => {
  const emu = startEmulator(t)
  const c = client(emu, 'v8')
  for (const value of ['a/b', 'a?b#c', '100%', '..', '.', 'a b+c', 'ü😀', 'x,y', '%2F', '583472934', 'a&ids=b']) {
    const [id] = emu.insertRecords('Deals', [{ External_Deal_ID: value }])
    await c.updateRelated({ module: 'Contacts', parent: contactExt, relatedList: 'Deals', relatedField: 'External_Deal_ID', records: [{ External_Deal_ID: value }] })
    const args = { module: 'Contacts', parent: contactExt, relatedList: 'Deals', related: value, relatedField: 'External_Deal_ID' }
    // The raw text, not `new URL(...)`: WHATWG URL parsing would itself remove `%2E%2E` as a dot-segment.
    const path = c.prepareGetRelated(args).url.slice(emu.baseUrl.length)
    assert.equal(path.split('/').length, 7, path)
    assert.ok(!path.includes('?'), path)
    const r = await c.getRelated(args)
    assert.deepEqual(r.rows.map((row) => [row.id, row.fields.External_Deal_ID]), [[id, value]])
    const d = await c.deleteRelated({ module: 'Contacts', parent: contactExt, relatedList: 'Deals', values: [value], relatedField: 'External_Deal_ID' })
    assert.equal(d.outcomes[0].id, id)
  }
  assert.deepEqual(emu.related('Contacts', SEED.contactId, 'Deals'), [])
})

// linkMany: rows -> the core's bulk engine, with progress through a ThreadsafeFunction and an AbortSignal.
// (Streaming inputs, onOutcome and memory bounds: streaming.test.mjs.)
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { getEventListeners } from 'node:events'

import { SEED, rejection, startEmulator, staticClient, zcrm } from './support.mjs'

const mapping = { parent: 'Contacts.External_Contact_ID', related: 'Deals.External_Deal_ID' }

/** Adds `contacts` contacts c0.. and `deals` deals d0.. to the emulator. */
function seedMany(emu, contacts, deals) {
  emu.insertRecords('Contacts', Array.from({ length: contacts }, (_, i) => ({ External_Contact_ID: `c${i}`, Last_Name: `C${i}` })))
  emu.insertRecords('Deals', Array.from({ length: deals }, (_, i) => ({ External_Deal_ID: `d${i}`, Deal_Name: `D${i}` })))
}

test('linkMany: every row one outcome (sorted by row), totals, progress before the Promise settles', async (t) => {
  const emu = startEmulator(t, { latencyMs: 20 })
  seedMany(emu, 3, 250)
  const rows = Array.from({ length: 250 }, (_, i) => ({ contact: `c${i % 3}`, External_Deal_ID: `d${i}`, role: `r${i}`, note: 'ignored' }))
  rows.splice(10, 0, { contact: 'c0' }) // no related key -> INVALID_INPUT
  rows.splice(20, 0, 'not an object') // -> INVALID_INPUT
  rows.splice(30, 0, { contact: 'c1', External_Deal_ID: 'no-such-deal', role: 'x' }) // -> INVALID_DATA from Zoho
  const progress = []
  let settled = false
  const report = await staticClient(emu).linkMany(rows, {
    ...mapping,
    parentColumn: 'contact',
    fields: { Contact_Role: 'role' },
    batchSize: 20,
    concurrency: 4,
    progressIntervalMs: 5,
    onProgress: (p) => {
      assert.equal(settled, false, 'progress after the Promise settled')
      progress.push(p)
    },
  }).finally(() => {
    settled = true
  })
  const { outcomes, summary } = report
  assert.equal(outcomes.length, rows.length)
  outcomes.forEach((o, i) => {
    assert.equal(o.row, i)
    assert.equal(o.outcome.index, i)
  })
  assert.equal(outcomes[10].outcome.code, 'INVALID_INPUT')
  assert.equal(outcomes[10].attempts, 0)
  assert.equal(outcomes[20].outcome.code, 'INVALID_INPUT')
  assert.equal(outcomes[30].outcome.code, 'INVALID_DATA')
  assert.equal(outcomes[0].parent, 'c0')
  assert.equal(outcomes[0].key, 'd0')
  assert.equal(typeof outcomes[0].outcome.id, 'string')
  assert.deepEqual(
    { rows: summary.rows, succeeded: summary.succeeded, failed: summary.failed, invalid: summary.invalid, notAttempted: summary.notAttempted, cancelled: summary.cancelled },
    { rows: 253, succeeded: 250, failed: 3, invalid: 2, notAttempted: 0, cancelled: false },
  )
  assert.ok(summary.calls >= 15, `${summary.calls} calls`)
  assert.ok(summary.elapsedMs > 0)
  // State: each contact got its deals, with the role from the `role` column and nothing from `note`.
  const c0 = emu.findExternal('Contacts', 'External_Contact_ID', 'c0')
  const linked = emu.related('Contacts', c0, 'Deals')
  assert.equal(linked.length, 84)
  assert.deepEqual(Object.keys(linked[0].fields), ['Contact_Role'])
  // Progress: at the bounded rate, monotonic, the last one complete.
  assert.ok(progress.length >= 2, `${progress.length} progress reports`)
  for (let i = 1; i < progress.length; i++) assert.ok(progress[i].completed >= progress[i - 1].completed)
  assert.equal(progress.at(-1).completed, 253)
  assert.equal(progress.at(-1).expectedRows, 253)
  assert.equal(progress.at(-1).rowsRead, 253)
  assert.equal(progress.at(-1).inFlight, 0)
})

test('linkMany with an AbortSignal: in-flight calls finish, the rest are NOT_ATTEMPTED, an AbortError with the report', async (t) => {
  const emu = startEmulator(t, { latencyMs: 150 })
  seedMany(emu, 1, 300)
  const rows = Array.from({ length: 300 }, (_, i) => ({ External_Contact_ID: 'c0', External_Deal_ID: `d${i}` }))
  const controller = new AbortController()
  let reports = 0
  const pending = staticClient(emu).linkMany(rows, {
    ...mapping,
    batchSize: 10,
    concurrency: 2,
    progressIntervalMs: 10,
    signal: controller.signal,
    onProgress: () => reports++,
  })
  assert.equal(getEventListeners(controller.signal, 'abort').length, 1)
  setTimeout(() => controller.abort(new Error('user pressed stop')), 400)
  const e = await rejection(pending)
  assert.ok(e instanceof zcrm.ZcrmError)
  assert.equal(e.name, 'AbortError')
  assert.equal(e.code, 'CANCELLED')
  assert.equal(e.category, 'cancelled')
  assert.equal(e.cause.message, 'user pressed stop', 'the cause is the signal\'s reason')
  assert.match(e.message, /linkMany was aborted.*calls in flight finished/)
  const { outcomes, summary } = e.report
  assert.equal(summary.cancelled, true)
  assert.equal(outcomes.length, summary.rows, 'every row read has an outcome')
  outcomes.forEach((o, i) => assert.equal(o.row, i))
  assert.ok(summary.notAttempted > 0, `${summary.notAttempted} not attempted`)
  assert.ok(summary.succeeded > 0 && summary.succeeded % 10 === 0, `${summary.succeeded} succeeded in whole calls`)
  assert.equal(summary.succeeded + summary.notAttempted, summary.rows)
  const codes = new Set(outcomes.map((o) => o.outcome.code))
  assert.deepEqual([...codes].sort(), ['NOT_ATTEMPTED', 'SUCCESS'])
  // Calls already sent finished: the emulator linked exactly the rows reported SUCCESS.
  const c0 = emu.findExternal('Contacts', 'External_Contact_ID', 'c0')
  assert.equal(emu.related('Contacts', c0, 'Deals').length, summary.succeeded)
  assert.equal(emu.journal().filter((e) => e.method === 'PUT').length, summary.calls)
  assert.equal(getEventListeners(controller.signal, 'abort').length, 0, 'the abort listener is removed')
  assert.ok(reports > 0)
  t.diagnostic(`cancelled after ${summary.succeeded} linked, ${summary.notAttempted} not attempted, of ${summary.rows} read`)
})

test('linkMany with an already aborted signal rejects at once and reads and sends nothing', async (t) => {
  const emu = startEmulator(t)
  let read = 0
  function* rows() {
    read++
    yield { External_Contact_ID: SEED.contactExt, External_Deal_ID: SEED.deal3Ext }
  }
  const e = await rejection(staticClient(emu).linkMany(rows(), { ...mapping, signal: AbortSignal.abort() }))
  assert.equal(e.name, 'AbortError')
  assert.equal(e.code, 'CANCELLED')
  assert.match(e.message, /before it started: nothing was sent/)
  assert.equal(e.cause.name, 'AbortError', 'the default reason of AbortSignal.abort()')
  assert.equal(read, 0)
  assert.deepEqual(emu.journal(), [])
})

test('an exception thrown by onProgress cancels the job and rejects the Promise with it', async (t) => {
  const emu = startEmulator(t, { latencyMs: 50 })
  seedMany(emu, 1, 100)
  const rows = Array.from({ length: 100 }, (_, i) => ({ External_Contact_ID: 'c0', External_Deal_ID: `d${i}` }))
  const boom = new Error('boom')
  const e = await rejection(
    staticClient(emu).linkMany(rows, { ...mapping, batchSize: 5, concurrency: 1, progressIntervalMs: 1, onProgress: () => { throw boom } }),
  )
  assert.equal(e, boom)
  assert.ok(emu.journal().filter((j) => j.method === 'PUT').length < 20, 'the job stopped early')
})

test('linkMany rejects unusable options (and never throws synchronously)', async (t) => {
  const emu = startEmulator(t)
  const client = staticClient(emu)
  const rows = [{ External_Contact_ID: SEED.contactExt, External_Deal_ID: SEED.deal3Ext }]
  const noDot = await rejection(client.linkMany(rows, { parent: 'Contacts', related: 'Deals.External_Deal_ID' }))
  assert.equal(noDot.code, 'INVALID_INPUT')
  assert.equal(noDot.argument, 'parent')
  const batch = await rejection(client.linkMany(rows, { ...mapping, batchSize: 0 }))
  assert.equal(batch.code, 'INVALID_CONFIG')
  assert.equal(batch.setting, 'batch_size')
  const edition = await rejection(client.linkMany(rows, { ...mapping, edition: 'galactic' }))
  assert.equal(edition.setting, 'edition')
  const notArray = await rejection(client.linkMany('rows', mapping))
  assert.deepEqual([notArray.code, notArray.argument], ['INVALID_INPUT', 'rows'])
  const fields = await rejection(client.linkMany(rows, { ...mapping, fields: { Contact_Role: 7 } }))
  assert.deepEqual([fields.code, fields.location], ['INVALID_INPUT', 'fields.Contact_Role'])
  assert.deepEqual(emu.journal(), [])
})

test('linkMany with parents by record id, given as integers or strings', async (t) => {
  const emu = startEmulator(t)
  emu.insertRecords('Contacts', [{ id: '4242', External_Contact_ID: 'c42' }])
  const rows = [
    { contact: 4242, External_Deal_ID: SEED.deal3Ext, Contact_Role: SEED.role },
    { contact: SEED.contactId, External_Deal_ID: SEED.deal2Ext },
    { contact: 4242.5, External_Deal_ID: SEED.deal2Ext },
  ]
  const report = await staticClient(emu).linkMany(rows, { parent: 'Contacts.id', related: 'Deals.External_Deal_ID', parentColumn: 'contact', fields: { Contact_Role: 'Contact_Role' } })
  assert.deepEqual(report.outcomes.map((o) => [o.parent, o.outcome.code]), [['4242', 'SUCCESS'], [SEED.contactId, 'SUCCESS'], ['', 'INVALID_INPUT']])
  assert.equal(report.outcomes[2].outcome.details.field, 'contact')
  assert.deepEqual(emu.related('Contacts', '4242', 'Deals').map((r) => [r.id, r.fields.Contact_Role]), [[SEED.deal3Id, SEED.role]])
})

test('linkMany sends only the named fields; extra: "error" refuses other properties', async (t) => {
  const emu = startEmulator(t)
  seedMany(emu, 1, 2)
  const rows = [0, 1].map((i) => ({ External_Contact_ID: 'c0', External_Deal_ID: `d${i}`, Contact_Role: 'r', region: 'EU' }))
  const ok = await staticClient(emu).linkMany(rows, { ...mapping, fields: { Contact_Role: 'Contact_Role' } })
  assert.deepEqual(ok.outcomes.map((o) => o.outcome.code), ['SUCCESS', 'SUCCESS'])
  const strict = await staticClient(emu).linkMany(rows, { ...mapping, fields: { Contact_Role: 'Contact_Role' }, extra: 'error' })
  assert.deepEqual(strict.outcomes.map((o) => o.outcome.code), ['INVALID_INPUT', 'INVALID_INPUT'])
  assert.equal(strict.outcomes[0].outcome.details.field, 'region')
})

test('linkMany stopped by the circuit breaker rejects with the error and the partial report', async (t) => {
  const emu = startEmulator(t)
  seedMany(emu, 2, 300)
  const rows = Array.from({ length: 300 }, (_, i) => ({ External_Contact_ID: `c${i % 2}`, External_Deal_ID: `d${i}` }))
  const client = new zcrm.Client({ clientId: '1000.EMULATORCLIENTID', clientSecret: 'wrong', refreshToken: SEED.refreshToken, baseUrl: emu.baseUrl, accountsUrl: emu.accountsUrl })
  const e = await rejection(client.linkMany(rows, { ...mapping, batchSize: 10 }))
  assert.ok(e instanceof zcrm.ZcrmError)
  assert.equal(e.code, 'OAUTH_INVALID_CLIENT')
  assert.equal(e.report.summary.stopped, 'OAUTH_INVALID_CLIENT')
  assert.equal(e.report.outcomes.length, 300)
  assert.ok(e.report.outcomes.every((o) => ['OAUTH_INVALID_CLIENT', 'NOT_ATTEMPTED'].includes(o.outcome.code)))
  assert.ok(emu.stats().tokenErrors <= 2, `${emu.stats().tokenErrors} token requests`)
})

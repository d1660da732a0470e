// unlinkMany: the rows and options of linkMany unlink its pairs (ids= lists per parent, a value with ',' alone in
// the path), one outcome per row, the same report.
import { test } from 'node:test'
import assert from 'node:assert/strict'

import { startEmulator, staticClient } from './support.mjs'

const options = {
  parent: 'Contacts.External_Contact_ID',
  related: 'Deals.External_Deal_ID',
  parentColumn: 'contact',
  relatedColumn: 'deal',
  fields: { Contact_Role: 'role' },
  extra: 'error',
}

test('unlinkMany: the rows of a link job unlink its pairs', async (t) => {
  const emu = startEmulator(t)
  const contacts = emu.insertRecords('Contacts', [0, 1, 2].map((i) => ({ External_Contact_ID: `c${i}` })))
  emu.insertRecords('Deals', Array.from({ length: 250 }, (_, i) => ({ External_Deal_ID: `d${i}` })))
  emu.insertRecords('Deals', [{ External_Deal_ID: 'x,1' }])
  const rows = Array.from({ length: 250 }, (_, i) => ({ contact: `c${i % 3}`, deal: `d${i}`, role: `r${i}` }))
  rows.push({ contact: 'c0', deal: 'x,1', role: 'r' })
  const client = staticClient(emu)
  assert.equal((await client.linkMany(rows, options)).summary.succeeded, 251)
  emu.clearJournal()

  const keep = new Set(Array.from({ length: 25 }, (_, i) => `d${i * 10}`))
  const progress = []
  const report = await client.unlinkMany(rows.filter((r) => !keep.has(r.deal)), {
    ...options,
    progressIntervalMs: 0,
    onProgress: (p) => progress.push(p),
  })
  const { outcomes, summary } = report
  assert.deepEqual([summary.rows, summary.succeeded, summary.failed], [226, 226, 0])
  outcomes.forEach((o, i) => assert.equal(o.row, i))
  assert.deepEqual([outcomes[225].parent, outcomes[225].key, outcomes[225].outcome.ok], ['c0', 'x,1', true])
  assert.equal(progress.at(-1).completed, 226)
  const deletes = emu.journal().filter((e) => e.method === 'DELETE')
  assert.equal(deletes.length, 4, 'one ids= list per contact, and x,1 alone')
  assert.equal(summary.calls, 4)
  assert.ok(deletes.some((e) => e.path.endsWith('/Deals/x%2C1') && e.query === ''))
  const remaining = contacts.flatMap((c) => emu.related('Contacts', c, 'Deals').map((r) => r.id))
  assert.equal(remaining.length, 25)

  // Again: every pair is gone; each row fails with Zoho's answer, the Promise resolves.
  const again = await client.unlinkMany(rows.slice(1, 3), options) // d1, d2 (d0 was kept)
  assert.deepEqual(again.outcomes.map((o) => [o.outcome.code, o.outcome.message]), [
    ['INVALID_DATA', 'relation not found'],
    ['INVALID_DATA', 'relation not found'],
  ])
})

test('unlinkMany: bad options reject before anything is sent', async (t) => {
  const emu = startEmulator(t)
  const client = staticClient(emu)
  await assert.rejects(client.unlinkMany([], { ...options, parent: 'Contacts' }), (e) => e.code === 'INVALID_INPUT')
  const report = await client.unlinkMany([{ contact: 'c0' }], options)
  assert.equal(report.outcomes[0].outcome.code, 'INVALID_INPUT')
  assert.equal(emu.journal().filter((e) => e.method === 'DELETE').length, 0)
})

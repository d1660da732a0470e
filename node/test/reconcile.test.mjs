// planLinks / Plan: the plan as data (changes, summary, diff, JSON), apply with progress resolving to the report,
// the max_unlinks guard, a change between plan and apply, bad options.
import { test } from 'node:test'
import assert from 'node:assert/strict'

import { rejection, startEmulator, staticClient } from './support.mjs'

const mapping = {
  parent: 'Contacts.External_Contact_ID',
  related: 'Deals.External_Deal_ID',
  parentColumn: 'contact',
  relatedColumn: 'deal',
  fields: { Contact_Role: 'role' },
}

const DESIRED = [
  { contact: 'c0', deal: 'd0', role: 'r1' }, // unchanged
  { contact: 'c0', deal: 'd1', role: 'r2' }, // update
  { contact: 'c0', deal: 'd5', role: 'r1' }, // link
  { contact: 'c1', deal: 'd6', role: '' }, // link without a role; d3 unlinked
]

/** c0: d0, d1, d2; c1: d3; c2: d4 (role r1). */
async function org(t) {
  const emu = startEmulator(t)
  const contacts = emu.insertRecords('Contacts', [0, 1, 2].map((i) => ({ External_Contact_ID: `c${i}` })))
  emu.insertRecords('Deals', Array.from({ length: 10 }, (_, i) => ({ External_Deal_ID: `d${i}` })))
  const start = [['c0', 'd0'], ['c0', 'd1'], ['c0', 'd2'], ['c1', 'd3'], ['c2', 'd4']]
  const client = staticClient(emu)
  const linked = await client.linkMany(start.map(([contact, deal]) => ({ contact, deal, role: 'r1' })), mapping)
  assert.equal(linked.summary.succeeded, 5)
  emu.clearJournal()
  return { emu, client, contacts }
}

const writes = (emu) => emu.journal().filter((e) => e.method === 'PUT' || e.method === 'DELETE').length

test('planLinks: review, JSON, apply with progress, plan again', async (t) => {
  const { emu, client, contacts } = await org(t)
  const seen = []
  const plan = await client.planLinks(DESIRED, { ...mapping, unlinkMissing: true, maxUnlinks: '50%', onProgress: (p) => seen.push(p), progressIntervalMs: 0 })
  assert.equal(writes(emu), 0, 'planning changes nothing')
  const s = plan.summary
  assert.deepEqual([s.parents, s.currentLinks, s.links, s.updates, s.unlinks, s.unchanged, s.changes], [2, 4, 2, 1, 2, 1, 5])
  assert.ok(seen.length > 0 && seen.at(-1).parents === 2)
  assert.deepEqual([...plan].map((c) => [c.op, c.parent, c.related]), [
    ['update', 'c0', 'd1'], ['link', 'c0', 'd5'], ['unlink', 'c0', 'd2'], ['link', 'c1', 'd6'], ['unlink', 'c1', 'd3'],
  ])
  const update = plan.changes()[0]
  assert.deepEqual([update.fields, update.before, update.row], [{ Contact_Role: 'r2' }, { Contact_Role: 'r1' }, 1])
  assert.match(plan.summaryText(), /- 2 to unlink \(max_unlinks 50%: 2 allowed\)/)
  assert.ok(plan.diff().split('\n').includes('~ c0  d1  Contact_Role: "r1" -> "r2"'), plan.diff())
  const json = plan.toJson()
  assert.equal(JSON.parse(json).version, 1)
  const reviewed = client.loadPlan(json)
  const progress = []
  const report = await reviewed.apply({ onProgress: (p) => progress.push(p), progressIntervalMs: 0 })
  assert.deepEqual(report.outcomes.map((o) => [o.row, o.outcome.ok]), [0, 1, 2, 3, 4].map((i) => [i, true]))
  assert.equal(progress.at(-1).completed, 5)
  const c1 = emu.related('Contacts', contacts[1], 'Deals')
  assert.equal(c1.length, 1)
  const again = await client.planLinks(DESIRED, { ...mapping, unlinkMissing: true })
  assert.equal(again.isEmpty, true)
  assert.equal(again.summary.unchanged, 4)
})

test('plan.apply: the max_unlinks guard rejects before anything is sent; a changed parent is refused', async (t) => {
  const { emu, client } = await org(t)
  const guarded = await client.planLinks(DESIRED, { ...mapping, unlinkMissing: true, maxUnlinks: 1 })
  assert.equal(guarded.maxUnlinks, '1')
  emu.clearJournal()
  const e = await rejection(guarded.apply())
  assert.equal(e.code, 'INVALID_INPUT')
  assert.equal(e.argument, 'max_unlinks')
  assert.equal(emu.journal().length, 0)

  const plan = await client.planLinks(DESIRED, { ...mapping, unlinkMissing: true })
  await client.linkMany([{ contact: 'c1', deal: 'd9', role: 'x' }], mapping) // someone changes c1 meanwhile
  const report = await plan.apply()
  assert.deepEqual(report.outcomes.map((o) => [o.parent, o.outcome.code]), [
    ['c0', 'SUCCESS'], ['c0', 'SUCCESS'], ['c0', 'SUCCESS'], ['c1', 'CHANGED_SINCE_PLANNING'], ['c1', 'CHANGED_SINCE_PLANNING'],
  ])
  assert.equal(report.summary.failed, 2)
})

test('planLinks: bad options and files reject or throw with a code', async (t) => {
  const { client } = await org(t)
  const bad = await rejection(client.planLinks(DESIRED, { ...mapping, maxUnlinks: 'lots' }))
  assert.equal(bad.code, 'INVALID_INPUT')
  assert.throws(() => client.loadPlan('{"format": "zcrm-extid.plan", "version": 2}'), (e) => e.code === 'INVALID_INPUT')
  const withInvalid = await client.planLinks([...DESIRED, { contact: 'c0' }], { ...mapping, unlinkMissing: true })
  assert.deepEqual(withInvalid.invalid.map((r) => [r.row, r.location]), [[4, 'row[4].deal']])
  assert.deepEqual([withInvalid.summary.unlinks, withInvalid.summary.withheldUnlinks], [0, 2])
  const ac = new AbortController()
  ac.abort()
  const aborted = await rejection(client.planLinks(DESIRED, { ...mapping, signal: ac.signal }))
  assert.equal(aborted.code, 'CANCELLED')
})

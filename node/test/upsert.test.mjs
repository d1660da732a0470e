// upsertMany: rows (a data frame's records: undefined/null/NaN cells, Dates) -> records by the core's mapping,
// through the bulk engine; the action and Zoho id of every row; the later row of a repeated key wins.
import { test } from 'node:test'
import assert from 'node:assert/strict'

import { SEED, rejection, startEmulator, staticClient, zcrm } from './support.mjs'

const lookups = { Account_Name: 'Accounts.External_Account_ID:account' }

/** Contacts by External_Contact_ID, the account lookup read back as the account's external id. */
function contacts(emu) {
  const modules = emu.state().modules
  const accounts = Object.fromEntries(modules.Accounts.records.map((r) => [r.id, r.External_Account_ID]))
  return Object.fromEntries(
    modules.Contacts.records.map((r) => [r.External_Contact_ID, { ...r, account: r.Account_Name ? accounts[r.Account_Name.id] : undefined }]),
  )
}

function seedAccounts(emu, n) {
  return emu.insertRecords('Accounts', Array.from({ length: n }, (_, i) => ({ External_Account_ID: `a${i}`, Account_Name: `A${i}` })))
}

test('upsertMany: missing cells left out, Dates as ISO text, lookups from a column, action and id per row', async (t) => {
  const emu = startEmulator(t)
  seedAccounts(emu, 2)
  const rows = [
    { External_Contact_ID: SEED.contactExt, surname: 'Renamed', Phone: NaN, account: 'a0', Last_Seen: new Date(Date.UTC(2024, 4, 1, 10, 30)) },
    { External_Contact_ID: 'c1', surname: 'New', Phone: null, account: undefined, note: 'for humans' },
    { External_Contact_ID: 'c2', surname: 'Orphan', account: 'no-such-account' },
    'not an object',
    { surname: 'no key' },
  ]
  const progress = []
  const report = await staticClient(emu).upsertMany(rows, {
    module: 'Contacts',
    key: 'External_Contact_ID',
    lookups,
    columns: { Last_Name: 'surname' },
    skip: ['note'],
    onProgress: (p) => progress.push(p),
  })
  const { outcomes, summary } = report
  assert.deepEqual(outcomes.map((o) => o.outcome.code), ['SUCCESS', 'SUCCESS', 'INVALID_DATA', 'INVALID_INPUT', 'INVALID_INPUT'])
  assert.deepEqual(
    { action: outcomes[0].action, duplicateField: outcomes[0].duplicateField, parent: outcomes[0].parent, key: outcomes[0].key, id: outcomes[0].outcome.id },
    { action: 'update', duplicateField: 'External_Contact_ID', parent: 'Contacts', key: SEED.contactExt, id: SEED.contactId },
  )
  assert.equal(outcomes[1].action, 'insert')
  assert.equal(outcomes[1].outcome.id, emu.findExternal('Contacts', 'External_Contact_ID', 'c1'))
  assert.equal(outcomes[2].action, undefined)
  assert.equal(outcomes[4].outcome.details.field, 'External_Contact_ID')
  assert.deepEqual({ succeeded: summary.succeeded, failed: summary.failed, invalid: summary.invalid }, { succeeded: 2, failed: 3, invalid: 2 })
  assert.equal(progress.at(-1).completed, 5)
  const got = contacts(emu)
  assert.equal(got[SEED.contactExt].Last_Name, 'Renamed')
  assert.equal(got[SEED.contactExt].Last_Seen, '2024-05-01T10:30:00+00:00')
  assert.equal(got[SEED.contactExt].account, 'a0')
  assert.ok(!('Phone' in got[SEED.contactExt]), 'NaN: left out')
  assert.ok(!('Phone' in got.c1) && !('Account_Name' in got.c1) && !('note' in got.c1), 'null, undefined, skipped: left out')
  assert.ok(!('c2' in got))
})

test('upsertMany: the later row of a repeated key wins, whatever its lookup shape', async (t) => {
  const emu = startEmulator(t, { latencyMs: 20 })
  seedAccounts(emu, 5)
  const first = Array.from({ length: 200 }, (_, k) => ({ External_Contact_ID: `c${k}`, Last_Name: 'first' }))
  const second = Array.from({ length: 200 }, (_, k) => ({ External_Contact_ID: `c${k}`, Last_Name: 'second', account: `a${k % 5}` }))
  const report = await staticClient(emu).upsertMany([...first, ...second], { module: 'Contacts', key: 'External_Contact_ID', lookups })
  assert.equal(report.summary.succeeded, 400)
  assert.deepEqual(report.outcomes.map((o) => o.action), [...Array(200).fill('insert'), ...Array(200).fill('update')])
  const got = contacts(emu)
  for (let k = 0; k < 200; k++) {
    assert.deepEqual([got[`c${k}`].Last_Name, got[`c${k}`].account], ['second', `a${k % 5}`], `c${k}`)
  }
})

test('upsertMany: bad options reject before anything is sent; an abort rejects with an AbortError carrying every row', async (t) => {
  const emu = startEmulator(t, { latencyMs: 100 })
  const client = staticClient(emu)
  const bad = await rejection(client.upsertMany([{ External_Contact_ID: 'c1' }], { module: 'Contacts', key: 'bad key' }))
  assert.ok(bad instanceof zcrm.ZcrmError)
  assert.equal(bad.code, 'INVALID_INPUT')
  const badLookup = await rejection(client.upsertMany([], { module: 'Contacts', key: 'External_Contact_ID', lookups: { Account_Name: 7 } }))
  assert.equal(badLookup.code, 'INVALID_INPUT')
  assert.equal(emu.stats().apiCalls, 0)

  const controller = new AbortController()
  const rows = Array.from({ length: 300 }, (_, i) => ({ External_Contact_ID: `c${i}`, Last_Name: `L${i}` }))
  const aborted = await rejection(client.upsertMany(rows, {
    module: 'Contacts',
    key: 'External_Contact_ID',
    batchSize: 10,
    concurrency: 2,
    progressIntervalMs: 5,
    signal: controller.signal,
    onProgress: (p) => {
      if (p.completed >= 1) controller.abort()
    },
  }))
  assert.equal(aborted.name, 'AbortError')
  assert.equal(aborted.code, 'CANCELLED')
  const { summary, outcomes } = aborted.report
  assert.equal(outcomes.length, 300)
  assert.ok(summary.cancelled && summary.succeeded > 0 && summary.notAttempted > 0)
  assert.deepEqual(new Set(outcomes.map((o) => o.outcome.code)), new Set(['SUCCESS', 'NOT_ATTEMPTED']))
  const upserted = Object.keys(contacts(emu)).filter((k) => k.startsWith('c'))
  assert.deepEqual(upserted.sort(), outcomes.filter((o) => o.outcome.ok).map((o) => o.key).sort())
})

test('upsertMany: a wrong secret stops the job and rejects with the report', async (t) => {
  const emu = startEmulator(t)
  const client = new zcrm.Client({ clientId: '1000.EMULATORCLIENTID', clientSecret: 'wrong', refreshToken: SEED.refreshToken, baseUrl: emu.baseUrl, accountsUrl: emu.accountsUrl })
  const rows = Array.from({ length: 250 }, (_, i) => ({ External_Contact_ID: `c${i}` }))
  const e = await rejection(client.upsertMany(rows, { module: 'Contacts', key: 'External_Contact_ID' }))
  assert.equal(e.code, 'OAUTH_INVALID_CLIENT')
  assert.equal(e.report.outcomes.length, 250)
  assert.equal(e.report.summary.stopped, 'OAUTH_INVALID_CLIENT')
})

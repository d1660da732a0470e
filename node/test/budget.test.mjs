// The shared budget from Node: `new Client({ ..., budget: 'redis://...' })` shares one token and the org's limits
// with other clients, a job stops at its credit reserve with NOT_ATTEMPTED rows, an unreachable Redis is a
// ZcrmError when the client is built. Needs a Redis (ZCRM_TEST_REDIS_URL, set by .ci/run): skipped without one,
// failed under CI.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'

import { startEmulator, zcrm } from './support.mjs'

const REDIS = process.env.ZCRM_TEST_REDIS_URL
const PARENT = 'Contacts.External_Contact_ID'
const RELATED = 'Deals.External_Deal_ID'

function needRedis(t) {
  if (REDIS) return true
  if (process.env.CI) assert.fail('ZCRM_TEST_REDIS_URL is not set (.ci/run starts a redis-server)')
  t.skip('no Redis: set ZCRM_TEST_REDIS_URL')
  return false
}

function seed(emu, n) {
  emu.insertRecords('Contacts', Array.from({ length: n }, (_, i) => ({ External_Contact_ID: `c${i}`, Last_Name: `C${i}` })))
  emu.insertRecords('Deals', Array.from({ length: n }, (_, i) => ({ External_Deal_ID: `d${i}`, Deal_Name: `D${i}` })))
}

test('clients with one budget share one token', async (t) => {
  if (!needRedis(t)) return
  const emu = startEmulator(t)
  seed(emu, 4)
  const budgetPrefix = `node-${randomUUID()}`
  for (let k = 0; k < 2; k++) {
    const client = new zcrm.Client({ ...emu.clientOptions(), budget: REDIS, budgetPrefix })
    const rows = [0, 1].map((i) => ({ External_Contact_ID: `c${k}`, External_Deal_ID: `d${2 * k + i}` }))
    const report = await client.linkMany(rows, { parent: PARENT, related: RELATED })
    assert.equal(report.summary.succeeded, 2)
  }
  assert.equal(emu.stats().tokensIssued, 1)
})

test('the credit reserve stops a job with NOT_ATTEMPTED rows', async (t) => {
  if (!needRedis(t)) return
  const emu = startEmulator(t, { credits: 40 })
  seed(emu, 40)
  const client = new zcrm.Client({ ...emu.clientOptions(), budget: REDIS, budgetPrefix: `node-${randomUUID()}` })
  const rows = Array.from({ length: 40 }, (_, i) => ({ External_Contact_ID: `c${i}`, External_Deal_ID: `d${i}` }))
  const report = await client.linkMany(rows, { parent: PARENT, related: RELATED, concurrency: 2, reserve: 10 })
  const used = emu.stats().creditsUsed
  assert.ok(used <= 30, `${used} credits used`)
  const skipped = report.outcomes.filter((o) => o.outcome.code === 'NOT_ATTEMPTED')
  assert.equal(report.outcomes.length, 40)
  assert.equal(skipped.length, 40 - used)
  assert.equal(skipped[0].outcome.details.cause, 'CREDIT_RESERVE')
})

test('an unreachable Redis is a ZcrmError when the client is built', (t) => {
  const emu = startEmulator(t)
  assert.throws(
    () => new zcrm.Client({ ...emu.clientOptions(), budget: 'redis://:hunter2@127.0.0.1:1/0', budgetPrefix: 'x' }),
    (e) => e instanceof zcrm.ZcrmError && e.code === 'BUDGET_UNAVAILABLE' && e.kind === 'Transport' && !e.message.includes('hunter2'),
  )
  const local = new zcrm.Client({ ...emu.clientOptions(), budget: 'redis://127.0.0.1:1/0', budgetPrefix: 'x', onRedisError: 'local' })
  assert.equal(local.baseUrl, emu.baseUrl)
})

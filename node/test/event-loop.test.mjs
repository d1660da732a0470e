// Blocking work runs on the addon's threads, never on the JS thread; concurrent calls share one token refresh.
// (libuv's pool stays free: threads.test.mjs.)
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { setTimeout as sleep } from 'node:timers/promises'

import { SEED, startEmulator, staticClient, zcrm } from './support.mjs'

const plainIds = { module: 'Contacts', parent: SEED.contactId, relatedList: 'Deals', records: [{ id: SEED.deal3Id }] }

test('the event loop keeps ticking during a call the emulator delays by 300 ms', async (t) => {
  const emu = startEmulator(t, { latencyMs: 300 })
  const client = staticClient(emu)
  let ticks = 0
  const timer = setInterval(() => ticks++, 10)
  try {
    const started = performance.now()
    const pending = client.updateRelated(plainIds)
    assert.equal(ticks, 0)
    const r = await pending
    const elapsed = performance.now() - started
    assert.equal(r.allSucceeded, true)
    assert.ok(elapsed >= 300, `the emulator delayed the call (${elapsed} ms)`)
    // A blocked JS thread would give 0 or 1 tick; a free one about 30.
    assert.ok(ticks >= 15, `the JS thread was blocked: ${ticks} ticks in ${elapsed.toFixed(0)} ms`)
    t.diagnostic(`event-loop ticks during a 300 ms call: ${ticks} (10 ms interval, ${elapsed.toFixed(0)} ms)`)
  } finally {
    clearInterval(timer)
  }
})

test('50 concurrent calls on one client with a token about to expire cause exactly one refresh', async (t) => {
  // auth.rs: a token is not handed out in its last min(5 s, lifetime/10). With a 2 s lifetime the first token is
  // no longer handed out 1.8 s after it was issued: every call then needs a new one, and the single-flight
  // refresh must fetch it once for all 50.
  const emu = startEmulator(t, { tokenLifetimeSecs: 2, concurrency: 100, latencyMs: 50 })
  const client = new zcrm.Client(emu.clientOptions())
  await client.updateRelated(plainIds)
  assert.equal(emu.stats().tokensIssued, 1)
  await sleep(1900)
  emu.clearJournal()
  const results = await Promise.all(Array.from({ length: 50 }, () => client.updateRelated(plainIds)))
  assert.ok(results.every((r) => r.allSucceeded))
  const stats = emu.stats()
  assert.equal(stats.tokensIssued, 2, 'one refresh for the 50 calls')
  assert.equal(emu.journal().filter((e) => e.path.endsWith('/oauth/v2/token')).length, 1)
  assert.equal(emu.journal().filter((e) => e.method === 'PUT').length, 50)
  // Calls run on the addon's threads, not libuv's pool of 4: they overlap well beyond 4.
  assert.ok(stats.maxInFlight > 4, `calls overlapped: ${stats.maxInFlight}`)
  t.diagnostic(`at most ${stats.maxInFlight} calls in flight, ${stats.tokensIssued - 1} refresh`)
})

test('the event loop keeps ticking during a bulk job', async (t) => {
  const emu = startEmulator(t, { latencyMs: 100 })
  const client = staticClient(emu)
  let ticks = 0
  const timer = setInterval(() => ticks++, 10)
  try {
    const rows = [SEED.deal3Ext, SEED.deal2Ext].map((d) => ({ External_Contact_ID: SEED.contactExt, External_Deal_ID: d }))
    const report = await client.linkMany(rows, { parent: 'Contacts.External_Contact_ID', related: 'Deals.External_Deal_ID', batchSize: 1, concurrency: 1 })
    assert.equal(report.summary.succeeded, 2)
    assert.ok(ticks >= 10, `the JS thread was blocked: ${ticks} ticks`)
  } finally {
    clearInterval(timer)
  }
})

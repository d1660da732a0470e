// Calls run on the addon's own threads, never on libuv's pool (4 threads, shared with fs, dns, zlib, crypto).
// These tests run with libuv's default pool size (package.json sets no UV_THREADPOOL_SIZE).
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'

import { SEED, startEmulator, staticClient } from './support.mjs'

const plainIds = { module: 'Contacts', parent: SEED.contactId, relatedList: 'Deals', records: [{ id: SEED.deal3Id }] }

test('64 concurrent calls of 3 s each finish in about 3 s, and fs.readFile meanwhile answers at once', async (t) => {
  const latency = 3000
  const emu = startEmulator(t, { latencyMs: latency, concurrency: 128 })
  const client = staticClient(emu, { maxRetries: 0 })
  await client.updateRelated(plainIds) // connections and the token warmed up (one call of 3 s)
  const started = performance.now()
  const calls = Array.from({ length: 64 }, () => client.updateRelated(plainIds))
  // While all 64 wait on the emulator, libuv's pool must be free for fs.
  const reads = []
  for (let i = 0; i < 5; i++) {
    await new Promise((r) => setTimeout(r, 200))
    const t0 = performance.now()
    await readFile(new URL('../package.json', import.meta.url))
    reads.push(performance.now() - t0)
  }
  const results = await Promise.all(calls)
  const elapsed = performance.now() - started
  assert.ok(results.every((r) => r.allSucceeded))
  assert.ok(elapsed >= latency, `${elapsed} ms`)
  // 4 at a time (libuv's pool) would take 16 x 3 s = 48 s; all at once about 3 s.
  assert.ok(elapsed < latency * 1.8, `64 calls of ${latency} ms took ${elapsed.toFixed(0)} ms`)
  const sorted = [...reads].sort((a, b) => a - b)
  const median = sorted[2]
  // With the pool held by the calls, a read would wait about 3 s; free, it takes well under a millisecond.
  assert.ok(median < 50, `fs.readFile took ${reads.map((r) => r.toFixed(1)).join(', ')} ms`)
  assert.ok(sorted[4] < 1000, `fs.readFile took ${reads.map((r) => r.toFixed(1)).join(', ')} ms`)
  assert.ok(emu.stats().maxInFlight >= 64, `${emu.stats().maxInFlight} calls at once at the emulator`)
  t.diagnostic(
    `64 calls of ${latency} ms: ${elapsed.toFixed(0)} ms; fs.readFile during them: ${reads.map((r) => r.toFixed(2)).join(', ')} ms`,
  )
})

test('a bulk job does not hold a libuv thread either', async (t) => {
  const emu = startEmulator(t, { latencyMs: 300 })
  const client = staticClient(emu)
  // Five jobs at once would hold all four pool threads (and queue the fifth) if jobs ran there.
  const rows = [{ External_Contact_ID: SEED.contactExt, External_Deal_ID: SEED.deal3Ext }]
  const mapping = { parent: 'Contacts.External_Contact_ID', related: 'Deals.External_Deal_ID' }
  const jobs = Array.from({ length: 5 }, () => client.linkMany(rows, mapping))
  await new Promise((r) => setTimeout(r, 100))
  const t0 = performance.now()
  await readFile(new URL('../package.json', import.meta.url))
  const read = performance.now() - t0
  const reports = await Promise.all(jobs)
  assert.ok(reports.every((r) => r.summary.succeeded === 1))
  assert.ok(read < 150, `fs.readFile took ${read.toFixed(1)} ms during 5 jobs`)
})

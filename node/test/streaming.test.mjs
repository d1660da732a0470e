// linkMany over any Iterable or AsyncIterable, read only as the job has room (bindings/node/src/rows.rs);
// outcomes as they complete through onOutcome.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Readable } from 'node:stream'
import { setTimeout as sleep } from 'node:timers/promises'

import { SEED, rejection, startEmulator, staticClient } from './support.mjs'

const mapping = { parent: 'Contacts.External_Contact_ID', related: 'Deals.External_Deal_ID' }

function seed(emu, contacts, deals) {
  emu.insertRecords('Contacts', Array.from({ length: contacts }, (_, i) => ({ External_Contact_ID: `c${i}` })))
  emu.insertRecords('Deals', Array.from({ length: deals }, (_, i) => ({ External_Deal_ID: `d${i}` })))
}

test('an AsyncIterable of 100,000 rows is streamed: read only as fast as it is sent, memory bounded', async (t) => {
  const emu = startEmulator(t, { concurrency: 50 })
  const perContact = 100
  const total = 100_000
  seed(emu, total / perContact, perContact)
  const window = 1000
  let produced = 0
  let completed = 0
  let maxLead = 0
  async function* rows() {
    for (let i = 0; i < total; i++) {
      produced++
      maxLead = Math.max(maxLead, produced - completed)
      yield { External_Contact_ID: `c${Math.floor(i / perContact)}`, External_Deal_ID: `d${i % perContact}` }
    }
  }
  globalThis.gc?.()
  const heapBefore = process.memoryUsage().heapUsed
  let heapPeak = heapBefore
  const started = performance.now()
  const report = await staticClient(emu).linkMany(rows(), {
    ...mapping,
    window,
    concurrency: 10,
    keepOutcomes: false,
    onOutcome: (o) => {
      completed++
      if (o.outcome.code !== 'SUCCESS') throw new Error(`row ${o.row}: ${o.outcome.code}`)
    },
    progressIntervalMs: 100,
    onProgress: () => {
      heapPeak = Math.max(heapPeak, process.memoryUsage().heapUsed)
    },
  })
  const elapsed = performance.now() - started
  const { summary } = report
  assert.equal(summary.rows, total)
  assert.equal(summary.succeeded, total)
  assert.equal(completed, total, 'every outcome reached onOutcome before the Promise settled')
  assert.deepEqual(report.outcomes, [], 'keepOutcomes: false keeps none')
  // The source ran ahead of the outcomes seen by onOutcome by at most the window, one chunk being read, the
  // calls on the way (2 x concurrency x batch) and the outcomes queued for onOutcome (1024): never the input.
  const bound = window + 256 + 2 * 10 * 100 + 1024
  assert.ok(maxLead <= bound, `the generator ran ${maxLead} rows ahead (bound ${bound})`)
  assert.ok(summary.peakHeldRows <= window + 2 * 10 * 100, `${summary.peakHeldRows} rows held at once`)
  const grown = (heapPeak - heapBefore) / 1e6
  assert.ok(grown < 64, `the JS heap grew ${grown.toFixed(1)} MB`)
  assert.equal(emu.stats().apiCalls, total / 100)
  t.diagnostic(
    `100,000 rows from an async generator in ${(elapsed / 1000).toFixed(1)} s: ${summary.calls} calls, ` +
      `source at most ${maxLead} rows ahead, ${summary.peakHeldRows} rows held, JS heap +${grown.toFixed(1)} MB`,
  )
})

test('any iterable: an Array, a Set, a generator, a Readable in object mode', async (t) => {
  const emu = startEmulator(t)
  seed(emu, 2, 30)
  const make = (n, from = 0) =>
    Array.from({ length: n }, (_, i) => ({ External_Contact_ID: `c${(from + i) % 2}`, External_Deal_ID: `d${from + i}` }))
  const client = staticClient(emu)
  function* generated() {
    yield* make(5, 10)
  }
  const inputs = [
    ['Array', make(5, 0), 5],
    ['Set', new Set(make(5, 5)), 5],
    ['generator', generated(), undefined],
    ['Readable', Readable.from(make(10, 15), { objectMode: true, highWaterMark: 2 }), undefined],
    ['async iterator object', { [Symbol.asyncIterator]: async function* () { yield* make(5, 25) } }, undefined],
  ]
  for (const [name, rows, expected] of inputs) {
    let lastProgress
    const report = await client.linkMany(rows, { ...mapping, onProgress: (p) => (lastProgress = p) })
    assert.ok(report.outcomes.length > 0, name)
    assert.ok(report.outcomes.every((o) => o.outcome.code === 'SUCCESS'), `${name}: ${JSON.stringify(report.outcomes.map((o) => o.outcome.code))}`)
    assert.equal(lastProgress.expectedRows, expected, `${name}: a size only when the input says`)
  }
  const c0 = emu.findExternal('Contacts', 'External_Contact_ID', 'c0')
  const c1 = emu.findExternal('Contacts', 'External_Contact_ID', 'c1')
  assert.equal(emu.related('Contacts', c0, 'Deals').length + emu.related('Contacts', c1, 'Deals').length, 30)
})

test('an iterator that throws stops the job; the Promise rejects with what it threw, the report attached', async (t) => {
  const emu = startEmulator(t)
  seed(emu, 1, 10)
  const broken = new Error('the export broke at row 7')
  async function* rows() {
    for (let i = 0; i < 7; i++) yield { External_Contact_ID: 'c0', External_Deal_ID: `d${i}` }
    throw broken
  }
  const e = await rejection(staticClient(emu).linkMany(rows(), mapping))
  assert.equal(e, broken)
  assert.equal(e.report.summary.cancelled, true)
  assert.ok(e.report.outcomes.length <= 7)
  for (const o of e.report.outcomes) assert.ok(['SUCCESS', 'NOT_ATTEMPTED'].includes(o.outcome.code))
})

test('aborting a job closes its source (the generator\'s finally runs) and rejects with the report', async (t) => {
  const emu = startEmulator(t, { latencyMs: 100 })
  seed(emu, 1, 50)
  let closed = false
  let produced = 0
  async function* rows() {
    try {
      for (let i = 0; ; i++) {
        produced++
        yield { External_Contact_ID: 'c0', External_Deal_ID: `d${i % 50}` }
        await sleep(1)
      }
    } finally {
      closed = true
    }
  }
  const controller = new AbortController()
  const pending = staticClient(emu).linkMany(rows(), { ...mapping, batchSize: 5, concurrency: 1, window: 20, signal: controller.signal })
  await sleep(300)
  controller.abort()
  const e = await rejection(pending)
  assert.equal(e.name, 'AbortError')
  assert.equal(e.report.summary.cancelled, true)
  assert.equal(e.report.outcomes.length, e.report.summary.rows)
  await sleep(50)
  assert.ok(closed, 'the endless generator was closed')
  assert.ok(produced < 2000, `${produced} rows produced: the job did not read ahead without bound`)
})

test('timeoutMs stops a job like an abort and rejects with TIMEOUT and the report', async (t) => {
  const emu = startEmulator(t, { latencyMs: 200 })
  seed(emu, 1, 40)
  const rows = Array.from({ length: 40 }, (_, i) => ({ External_Contact_ID: 'c0', External_Deal_ID: `d${i}` }))
  const e = await rejection(staticClient(emu).linkMany(rows, { ...mapping, batchSize: 5, concurrency: 1, timeoutMs: 300 }))
  assert.deepEqual([e.name, e.code, e.category], ['ZcrmError', 'TIMEOUT', 'network'])
  assert.match(e.message, /linkMany did not finish within timeoutMs \(300 ms\)/)
  const { summary } = e.report
  assert.ok(summary.succeeded > 0 && summary.notAttempted > 0, JSON.stringify(summary))
  assert.equal(summary.succeeded + summary.notAttempted, 40)
})

test('rows that are not an iterable are refused before anything starts', async (t) => {
  const emu = startEmulator(t)
  for (const rows of ['a string', 42, { not: 'iterable' }, null]) {
    const e = await rejection(staticClient(emu).linkMany(rows, mapping))
    assert.deepEqual([e.code, e.argument], ['INVALID_INPUT', 'rows'], String(rows))
  }
  const one = [{ External_Contact_ID: SEED.contactExt, External_Deal_ID: SEED.deal3Ext, Contact_Role: undefined }]
  const ok = await staticClient(emu).linkMany(one, { ...mapping, fields: { Contact_Role: 'Contact_Role' } })
  assert.equal(ok.outcomes[0].outcome.code, 'SUCCESS', 'an optional field left undefined is absent')
})

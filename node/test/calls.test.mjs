// What every Promise-returning method shares (bindings/node/src/call.rs): the caller's stack on rejection,
// AbortSignal and timeoutMs, unknown option keys refused.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { getEventListeners } from 'node:events'
import { setTimeout as sleep } from 'node:timers/promises'

import { SEED, rejection, startEmulator, staticClient, zcrm } from './support.mjs'

const plainIds = { module: 'Contacts', parent: SEED.contactId, relatedList: 'Deals', records: [{ id: SEED.deal3Id }] }
const readArgs = { module: 'Contacts', parent: SEED.contactId, relatedList: 'Deals', fields: ['Deal_Name'] }
const deleteArgs = { module: 'Contacts', parent: SEED.contactId, relatedList: 'Deals', values: [SEED.deal3Id] }

async function theCallerOfUpdateRelated(client) {
  await sleep(1) // after an await, so the stack has an async part too
  return client.updateRelated({ ...plainIds, module: 'Nope' })
}

async function anOuterAsyncFunction(client) {
  return await theCallerOfUpdateRelated(client)
}

test('a rejection carries the stack of the code that made the call, its awaits included', async (t) => {
  const emu = startEmulator(t)
  const e = await rejection(anOuterAsyncFunction(staticClient(emu)))
  assert.ok(e instanceof zcrm.ZcrmError)
  assert.equal(e.code, 'INVALID_MODULE', 'rejected by the emulator, on an addon thread')
  assert.match(e.stack, /^ZcrmError: INVALID_MODULE/)
  assert.match(e.stack, /at theCallerOfUpdateRelated \(.*calls\.test\.mjs:\d+:\d+\)/)
  assert.match(e.stack, /at async anOuterAsyncFunction/)
  // Validation failures (rejected before anything is sent) carry it too.
  async function aValidatingCaller() {
    return staticClient(emu).getRelated({ ...readArgs, module: '' })
  }
  const invalid = await rejection(aValidatingCaller())
  assert.equal(invalid.code, 'INVALID_INPUT')
  assert.match(invalid.stack, /at aValidatingCaller/)
})

test('an already aborted signal rejects at once with an AbortError, and nothing is sent', async (t) => {
  const emu = startEmulator(t)
  const client = staticClient(emu)
  const reason = new Error('not needed any more')
  const signal = AbortSignal.abort(reason)
  for (const [name, call] of [
    ['updateRelated', () => client.updateRelated(plainIds, { signal })],
    ['getRelated', () => client.getRelated(readArgs, { signal })],
    ['deleteRelated', () => client.deleteRelated(deleteArgs, { signal })],
    ['RelatedIterator.next', () => client.iterRelated(readArgs, { signal }).next()],
  ]) {
    const e = await rejection(call())
    assert.ok(e instanceof zcrm.ZcrmError, name)
    assert.equal(e.name, 'AbortError', name)
    assert.deepEqual([e.code, e.kind, e.category, e.retryable], ['CANCELLED', 'Cancelled', 'cancelled', false])
    assert.equal(e.cause, reason, 'the cause is the signal\'s reason')
    assert.equal(e.message, `cancelled: ${name} was aborted before it started: nothing was sent`)
  }
  assert.deepEqual(emu.journal(), [])
})

test('aborting during a call rejects at once; no retry is sent after it', async (t) => {
  const emu = startEmulator(t, { latencyMs: 1500 })
  const client = staticClient(emu)
  emu.pushFault({ kind: 'status', status: 500, forever: true }) // every attempt fails and would be retried
  const controller = new AbortController()
  const started = performance.now()
  const pending = client.updateRelated(plainIds, { signal: controller.signal })
  assert.equal(getEventListeners(controller.signal, 'abort').length, 1)
  await sleep(200)
  controller.abort()
  const e = await rejection(pending)
  const waited = performance.now() - started
  assert.equal(e.name, 'AbortError')
  assert.equal(e.message, 'cancelled: updateRelated was aborted while it was running: a request may have reached Zoho; no further attempt is made')
  assert.ok(waited < 1000, `rejected ${waited.toFixed(0)} ms after the call, not after the 1.5 s attempt`)
  assert.equal(getEventListeners(controller.signal, 'abort').length, 0, 'the listener is removed')
  await sleep(2500) // the attempt on the wire ends; no retry follows it
  assert.equal(emu.journal().filter((j) => j.method === 'PUT').length, 1)
})

test('timeoutMs rejects with TIMEOUT once it passes, retries and backoff included', async (t) => {
  const emu = startEmulator(t, { latencyMs: 400 })
  const client = staticClient(emu)
  const started = performance.now()
  const e = await rejection(client.getRelated(readArgs, { timeoutMs: 100 }))
  const waited = performance.now() - started
  assert.ok(e instanceof zcrm.ZcrmError)
  assert.deepEqual([e.name, e.code, e.kind, e.category, e.retryable], ['ZcrmError', 'TIMEOUT', 'Timeout', 'network', true])
  assert.match(e.message, /getRelated did not finish within timeoutMs \(100 ms\)/)
  assert.ok(waited < 350, `${waited.toFixed(0)} ms`)
  // A call that finishes in time is not affected, and its timer does not keep the process alive.
  const ok = await client.getRelated(readArgs, { timeoutMs: 5000 })
  assert.equal(ok.status, 204, 'the seed contact has no deals yet: a 204, not an error')
})

test('unknown option keys are refused, naming the key and the likely one', async (t) => {
  const emu = startEmulator(t)
  const client = staticClient(emu)
  const cases = [
    [() => client.updateRelated({ ...plainIds, relatedFeild: 'X' }), 'args', 'relatedFeild', 'relatedField'],
    [() => client.updateRelated(plainIds, { timeout: 5 }), 'options', 'timeout', 'timeoutMs'],
    [() => client.getRelated({ ...readArgs, perpage: 5 }), 'args', 'perpage', 'perPage'],
    [() => client.deleteRelated({ ...deleteArgs, value: ['x'] }), 'args', 'value', 'values'],
    [
      () => client.linkMany([], { parent: 'Contacts.External_Contact_ID', related: 'Deals.External_Deal_ID', parentColum: 'c' }),
      'options',
      'parentColum',
      'parentColumn',
    ],
  ]
  for (const [call, argument, key, meant] of cases) {
    const e = await rejection(call())
    assert.deepEqual([e.code, e.argument, e.field], ['INVALID_INPUT', argument, key], e.message)
    assert.ok(e.message.includes(`did you mean "${meant}"?`), e.message)
  }
  const thrown = (f) => {
    try {
      f()
    } catch (e) {
      return e
    }
    assert.fail('expected a throw')
  }
  const ctor = thrown(() => new zcrm.Client({ accessToken: SEED.token, dataCentre: 'eu' }))
  assert.deepEqual([ctor.code, ctor.argument, ctor.field], ['INVALID_INPUT', 'options', 'dataCentre'])
  assert.ok(ctor.message.includes('did you mean "dataCenter"?'), ctor.message)
  const emuOptions = thrown(() => zcrm.Emulator.start({ latency: 5 }))
  assert.deepEqual([emuOptions.code, emuOptions.field], ['INVALID_INPUT', 'latency'])
  const prepare = thrown(() => zcrm.prepareUpdateRelated({ ...plainIds, dataCenter: 'eu', apiVersoin: 'v8' }))
  assert.deepEqual([prepare.code, prepare.field], ['INVALID_INPUT', 'apiVersoin'])
  // Every declared key is known: an optional field set to undefined is accepted.
  await client.updateRelated({ ...plainIds, relatedField: undefined, relatedModule: undefined }, { signal: undefined, timeoutMs: undefined })
  assert.deepEqual(emu.journal().map((j) => j.method), ['PUT'])
})

test('a signal that is not an AbortSignal, or a bad timeoutMs, is refused before anything is sent', async (t) => {
  const emu = startEmulator(t)
  const client = staticClient(emu)
  const notSignal = await rejection(client.updateRelated(plainIds, { signal: { aborted: false } }))
  assert.deepEqual([notSignal.code, notSignal.argument, notSignal.field], ['INVALID_INPUT', 'options', 'signal'])
  const negative = await rejection(client.updateRelated(plainIds, { timeoutMs: -1 }))
  assert.deepEqual([negative.code, negative.field], ['INVALID_INPUT', 'timeoutMs'])
  assert.deepEqual(emu.journal(), [])
})

test('an iterator\'s signal aborts the pending next()', async (t) => {
  const emu = startEmulator(t, { latencyMs: 800 })
  const client = staticClient(emu)
  const controller = new AbortController()
  const rows = client.iterRelated(readArgs, { signal: controller.signal })
  const pending = rows.next()
  await sleep(100)
  controller.abort()
  const e = await rejection(pending)
  assert.equal(e.name, 'AbortError')
  assert.match(e.message, /RelatedIterator\.next was aborted/)
  const again = await rejection(rows.next())
  assert.match(again.message, /before it started/)
})

// onEvent (typed ZcrmEvent objects on the JS thread, before the Promise settles), the DEBUG=zcrm-extid switch
// (stderr), a bulk summary's metrics, and no secret or value in any event.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'

import { SEED, startEmulator, zcrm } from './support.mjs'

const ROLE = 'role-value-91ac'
const mapping = { parent: 'Contacts.External_Contact_ID', related: 'Deals.External_Deal_ID', fields: { Contact_Role: 'role' } }

function seed(emu, contacts, deals) {
  emu.insertRecords('Contacts', Array.from({ length: contacts }, (_, i) => ({ External_Contact_ID: `contact-ext-${i}` })))
  emu.insertRecords('Deals', Array.from({ length: deals }, (_, i) => ({ External_Deal_ID: `deal-ext-${i}` })))
}

function rows(n, perParent) {
  return Array.from({ length: n }, (_, i) => ({
    External_Contact_ID: `contact-ext-${Math.floor(i / perParent)}`,
    External_Deal_ID: `deal-ext-${i}`,
    role: ROLE,
  }))
}

function listeningClient(emu, events, extra = {}) {
  return new zcrm.Client({
    clientId: '1000.EMULATORCLIENTID',
    clientSecret: SEED.clientSecret,
    refreshToken: SEED.refreshToken,
    baseUrl: emu.baseUrl,
    accountsUrl: emu.accountsUrl,
    onEvent: (e) => events.push(e),
    ...extra,
  })
}

const named = (events, name) => events.filter((e) => e.event === name)

test('onEvent receives a call\'s events before its Promise settles, in camelCase, naming no value', async (t) => {
  const emu = startEmulator(t)
  const events = []
  const client = listeningClient(emu, events)
  await client.updateRelated({
    module: 'Contacts',
    parent: { field: 'External_Contact_ID', value: SEED.contactExt },
    relatedList: 'Deals',
    relatedField: 'External_Deal_ID',
    records: [{ External_Deal_ID: SEED.deal3Ext }],
  })
  assert.deepEqual(events.map((e) => e.event), ['token.refreshed', 'http.request.sent', 'http.request.finished'])
  const done = named(events, 'http.request.finished')[0]
  assert.equal(done.path, '/crm/v5/Contacts/{External_Contact_ID}/Deals')
  assert.equal(done.crmModule, 'Contacts')
  assert.equal(done.status, 200)
  assert.equal(done.attempt, 1)
  assert.equal(done.records, 1)
  assert.equal(done.level, 'debug')
  assert.equal(done.target, 'zcrm_extid::http')
  assert.ok(done.durationMs > 0)
  assert.equal(named(events, 'token.refreshed')[0].replacement, false)
  assert.ok(!JSON.stringify(events).includes(SEED.contactExt) && !JSON.stringify(events).includes(SEED.deal3Ext))
})

test('a bulk job with faults: retries by cause, the summary\'s metrics, job events, no secret', async (t) => {
  const emu = startEmulator(t)
  seed(emu, 4, 200)
  emu.pushFault({ kind: 'status', status: 500, count: 2 })
  emu.pushFault({ kind: 'status', status: 429 })
  emu.pushFault({ kind: 'drop' })
  const events = []
  const report = await listeningClient(emu, events).linkMany(rows(200, 50), { ...mapping, batchSize: 50, concurrency: 1 })
  const { summary } = report
  assert.equal(summary.succeeded, 200)
  assert.equal(summary.calls, 8)
  const m = summary.metrics
  assert.deepEqual([m.retries429, m.retries5xx, m.retriesTransport, m.retriesTimeout], [1, 2, 1, 0])
  assert.ok(m.latencyP50Ms > 0 && m.latencyP50Ms <= m.latencyP95Ms && m.latencyP95Ms <= m.latencyMaxMs)
  assert.equal(m.timedCalls, 8)
  assert.equal(m.tokenRefreshes, 1)
  assert.equal(m.creditsUsed, 6)
  assert.equal(m.creditsRemaining, undefined)
  assert.ok(m.rowsPerSec > 0 && m.backoffMs > 0)
  assert.deepEqual(named(events, 'retry.scheduled').map((e) => e.cause), ['5xx', '5xx', '429', 'transport'])
  assert.equal(named(events, 'http.rate_limited')[0].limit, 1)
  const [started] = named(events, 'job.started')
  const [finished] = named(events, 'job.finished')
  assert.equal(finished.job, started.job)
  assert.equal(finished.rows, 200)
  assert.equal(finished.retries5xx, 2)
  assert.equal(events.at(-1).event, 'job.finished', 'delivered before the Promise settled')
  const all = JSON.stringify(events)
  for (const secret of [SEED.clientSecret, SEED.refreshToken, ROLE, 'contact-ext-', 'deal-ext-', '1000.']) {
    assert.ok(!all.includes(secret), secret)
  }
})

test('a wrong secret: one refresh failure, the breaker once, the rejection carries the metrics', async (t) => {
  const emu = startEmulator(t)
  seed(emu, 4, 200)
  const events = []
  const client = listeningClient(emu, events, { clientSecret: 'not-the-secret-5d' })
  const error = await client.linkMany(rows(200, 50), { ...mapping, batchSize: 10 }).then(
    () => assert.fail('resolved'),
    (e) => e,
  )
  assert.equal(error.code, 'OAUTH_INVALID_CLIENT')
  assert.equal(error.report.summary.metrics.timedCalls, 0)
  assert.equal(named(events, 'token.refresh_failed').length, 1)
  const opened = named(events, 'breaker.opened')
  assert.equal(opened.length, 1)
  assert.equal(opened[0].level, 'error')
  assert.equal(named(events, 'job.finished')[0].stopped, 'OAUTH_INVALID_CLIENT')
  assert.ok(!JSON.stringify(events).includes('not-the-secret-5d'))
})

test('a throwing onEvent is ignored, and a non-function onEvent is an INVALID_CONFIG', async (t) => {
  const emu = startEmulator(t)
  seed(emu, 4, 200)
  let calls = 0
  const client = listeningClient(emu, [], {
    onEvent: () => {
      calls += 1
      throw new Error('listener bug')
    },
  })
  const report = await client.linkMany(rows(200, 50), { ...mapping, batchSize: 10, concurrency: 4 })
  assert.equal(report.summary.succeeded, 200)
  assert.ok(calls >= 40, `${calls} events`)
  assert.throws(() => new zcrm.Client({ accessToken: 't', onEvent: 42 }), /on_event/)
})

test('DEBUG=zcrm-extid writes the events to stderr; without it nothing', () => {
  const script = `
    const zcrm = require(${JSON.stringify(fileURLToPath(new URL('../index.js', import.meta.url)))})
    const emu = zcrm.Emulator.start()
    const client = new zcrm.Client({ clientId: '1000.EMULATORCLIENTID', clientSecret: ${JSON.stringify(SEED.clientSecret)},
      refreshToken: ${JSON.stringify(SEED.refreshToken)}, baseUrl: emu.baseUrl, accountsUrl: emu.accountsUrl })
    emu.pushFault({ kind: 'status', status: 500 })
    client.updateRelated({ module: 'Contacts', parent: { field: 'External_Contact_ID', value: 'extcontact3' },
      relatedList: 'Deals', relatedField: 'External_Deal_ID', records: [{ External_Deal_ID: 'extdeal3' }] })
      .then(() => { emu.stop(); console.log('done') })
  `
  const run = (env) => spawnSync(process.execPath, ['-e', script], { env: { PATH: process.env.PATH, ...env }, encoding: 'utf8' })
  const on = run({ DEBUG: 'zcrm-extid' })
  assert.equal(on.status, 0, on.stderr)
  assert.equal(on.stdout.trim(), 'done', 'stdout untouched')
  const lines = on.stderr.trim().split('\n')
  assert.ok(lines.some((l) => / zcrm-extid:http debug http\.request\.finished: PUT \/crm\/v5\/Contacts\/\{External_Contact_ID\}\/Deals -> 500 INTERNAL_ERROR/.test(l)), on.stderr)
  assert.ok(lines.some((l) => / zcrm-extid:retry info retry\.scheduled: retry 1 in /.test(l)), on.stderr)
  assert.ok(lines.some((l) => / zcrm-extid:auth info token\.refreshed: /.test(l)), on.stderr)
  assert.ok(!on.stderr.includes('extcontact3') && !on.stderr.includes(SEED.clientSecret))
  const only = run({ DEBUG: 'zcrm-extid:retry' })
  assert.ok(only.stderr.includes('retry.scheduled') && !only.stderr.includes('http.request'), only.stderr)
  const nodeDebug = run({ NODE_DEBUG: 'zcrm-extid' })
  assert.ok(nodeDebug.stderr.includes('http.request.finished'), nodeDebug.stderr)
  const off = run({})
  assert.equal(off.status, 0)
  assert.equal(off.stderr, '')
})

// Per-call wall time of the Node package's updateRelated (one record, sequential, awaited) against the emulator
// process, next to Node's http with a keep-alive agent sending the same PUT; compare with benches/sdk_compare.sh.
//
//   node benches/per_call.mjs [N] [path/to/zcrm-emulator]
import { spawn } from 'node:child_process'
import http from 'node:http'
import { createInterface } from 'node:readline'
import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)
const { Client } = require('../node/index.js')
const TOKEN = '1000.8cb99dxxxxxxxxxxxxx9be93.9b8xxxxxxxxxxxxxxxf'
const n = Number(process.argv[2] ?? 2000)
const bin = process.argv[3] ?? 'target/release/zcrm-emulator'

const emu = spawn(bin, ['--journal', '0'], { stdio: ['pipe', 'pipe', 'inherit'] })
const line = await new Promise((resolve) => createInterface({ input: emu.stdout }).once('line', resolve))
const base = new URL(JSON.parse(line).base_url)
try {
  const client = new Client({ accessToken: TOKEN, baseUrl: base.origin })
  const records = [{ External_Deal_ID: 'extdeal3' }]
  const ours = () => client.updateRelated({
    module: 'Contacts', parent: { field: 'External_Contact_ID', value: 'extcontact3' }, relatedList: 'Deals',
    relatedField: 'External_Deal_ID', records,
  })
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 })
  const body = JSON.stringify({ data: records })
  const raw = () => new Promise((resolve, reject) => {
    const req = http.request({
      agent, host: base.hostname, port: base.port, method: 'PUT', path: '/crm/v5/Contacts/extcontact3/Deals',
      headers: { Authorization: `Zoho-oauthtoken ${TOKEN}`, 'Content-Type': 'application/json',
        'X-EXTERNAL': 'Contacts.External_Contact_ID,Deals.External_Deal_ID', 'Content-Length': Buffer.byteLength(body) },
    }, (res) => { res.resume(); res.on('end', resolve) })
    req.on('error', reject)
    req.end(body)
  })
  const rounds = { raw: [], ours: [] }
  await raw(); await ours()
  for (let r = 0; r < 10; r++) {
    for (const [name, f] of [['raw', raw], ['ours', ours]]) {
      const started = process.hrtime.bigint()
      for (let i = 0; i < n / 10; i++) await f()
      rounds[name].push(Number(process.hrtime.bigint() - started) / 1e6 / (n / 10))
    }
  }
  const median = (xs) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]
  const [r, o] = [median(rounds.raw), median(rounds.ours)]
  console.log(`| per call, Node package vs http keep-alive agent, ${n} calls each | ${o.toFixed(3)} ms vs ${r.toFixed(3)} ms (${o >= r ? '+' : ''}${(o - r).toFixed(3)} ms) | (compare: official SDKs, benches/sdk_compare.sh) | |`)
  agent.destroy()
} finally {
  emu.stdin.end()
}

// Smoke test of an installed zcrm-extid (run by .ci/package-check in a fresh npm project, without Rust on PATH):
// imports the package from the project's node_modules (ESM and CommonJS), checks that the binary came from the
// per-platform package, starts the in-process emulator and links one pair by external IDs.
import assert from 'node:assert/strict'
import { createRequire } from 'node:module'
import { Client, Emulator, version } from 'zcrm-extid'

const require = createRequire(`${process.cwd()}/`)
const entry = require.resolve('zcrm-extid')
assert.ok(entry.startsWith(`${process.cwd()}/node_modules/zcrm-extid/`), entry)
const platformPackage = require.resolve(`zcrm-extid-${process.platform}-${process.arch}-gnu`)
assert.ok(platformPackage.endsWith('.node'), platformPackage)
assert.equal(require('zcrm-extid').Client, Client)

const emu = Emulator.start()
try {
  const client = new Client(emu.clientOptions())
  const res = await client.updateRelated({
    module: 'Contacts',
    parent: { field: 'External_Contact_ID', value: 'extcontact3' },
    relatedList: 'Deals',
    relatedField: 'External_Deal_ID',
    records: [{ External_Deal_ID: 'extdeal2' }],
  })
  assert.equal(res.outcomes[0].code, 'SUCCESS')
  assert.deepEqual(emu.related('Contacts', '111111000000085009', 'Deals').map((r) => r.id), ['111111000000094040'])
} finally {
  emu.stop()
}
console.log(`node smoke: zcrm-extid ${version()} from ${entry} with ${platformPackage}: linked extcontact3 -> extdeal2`)

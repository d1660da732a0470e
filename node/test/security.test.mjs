// Security options and guarantees as JS sees them: the proxy option (plain conversion to the core's), URLs
// quoted without credentials, tokens that must be visible ASCII, errors that cannot forge a log line.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import util from 'node:util'

import { rejection, startEmulator, zcrm } from './support.mjs'

test('the proxy option is converted, and shown without credentials', () => {
  for (const proxy of ['none', 'env', 'http://user:pa55@proxy.example:3128']) {
    const client = new zcrm.Client({ accessToken: '1000.t', proxy })
    assert.doesNotMatch(util.inspect(client), /pa55/)
  }
})

test('rejected URLs are quoted without credentials or query values', () => {
  for (const [options, setting, secret] of [
    [{ proxy: 'socks5://user:pa55@proxy:1080' }, 'proxy', 'pa55'],
    [{ baseUrl: 'https://admin:hunter2@crm.example.com' }, 'base_url', 'hunter2'],
    [{ accountsUrl: 'https://accounts.example.com?client_secret=q-s3cret' }, 'accounts_url', 'q-s3cret'],
  ]) {
    let error
    try {
      new zcrm.Client({ accessToken: '1000.t', ...options })
    } catch (e) {
      error = e
    }
    assert.ok(error instanceof zcrm.ZcrmError, `${setting}: expected a ZcrmError`)
    assert.equal(error.code, 'INVALID_CONFIG')
    assert.equal(error.setting, setting)
    assert.ok(!error.message.includes(secret) && !util.inspect(error).includes(secret), error.message)
  }
})

test('an access token with a line separator is refused', () => {
  assert.throws(() => new zcrm.Client({ accessToken: '1000.a\u2028b' }), (e) => e.setting === 'access_token' && !e.message.includes('\u2028'))
})

test('a field name cannot forge a log line', async (t) => {
  const emu = startEmulator(t)
  const client = new zcrm.Client(emu.clientOptions())
  const forged = 'X\nzcrm: linked\u001b[2K\u2028'
  const e = await rejection(client.updateRelated({
    module: 'Contacts', parent: { field: 'External_Contact_ID', value: 'c' }, relatedList: 'Deals', records: [{ [forged]: '1', id: '1' }],
  }))
  assert.equal(e.code, 'INVALID_INPUT')
  assert.equal(e.message.split('\n').length, 1, e.message)
  assert.ok(!e.message.includes('\u001b') && !e.message.includes('\u2028') && e.message.includes('\\nzcrm:'), e.message)
})

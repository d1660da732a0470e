// Shared by the *.test.mjs files: the package, the seed page's ids, and an emulator per test.
import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)
/** The package as users load it (the generated CommonJS loader). */
export const zcrm = require('../index.js')

/** The default seed: the example of Zoho's "Update Related Records Using External ID" page. */
export const SEED = {
  token: '1000.8cb99dxxxxxxxxxxxxx9be93.9b8xxxxxxxxxxxxxxxf',
  contactId: '111111000000085009',
  contactExt: 'extcontact3',
  deal3Id: '111111000000094028',
  deal3Ext: 'extdeal3',
  deal2Id: '111111000000094040',
  deal2Ext: 'extdeal2',
  role: '111111000000026002',
  clientSecret: 'emulator-client-secret',
  refreshToken: '1000.emulator.refresh.token',
}

/** Starts an emulator for test `t` and stops it when the test ends. */
export function startEmulator(t, options) {
  const emu = zcrm.Emulator.start(options)
  t.after(() => emu.stop())
  return emu
}

/** A client with the seed page's static access token, pointed at `emu`. */
export function staticClient(emu, extra = {}) {
  return new zcrm.Client({ accessToken: SEED.token, baseUrl: emu.baseUrl, ...extra })
}

/** The related deals of the seed contact, as `{ id: Contact_Role }`. */
export function contactDeals(emu) {
  return Object.fromEntries(emu.related('Contacts', SEED.contactId, 'Deals').map((r) => [r.id, r.fields.Contact_Role]))
}

/** The rejection of `promise` (fails if it resolves). */
export async function rejection(promise) {
  try {
    const value = await promise
    throw new Error(`expected a rejection, got ${JSON.stringify(value)}`)
  } catch (e) {
    return e
  }
}

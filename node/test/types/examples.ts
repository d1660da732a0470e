// Idiomatic TypeScript against index.d.ts: interfaces with optional fields, generators, async generators, the
// error fields and categories. Checked by `tsc --strict` without @types/node (types.test.mjs). The lines marked
// as expected errors must stay errors: the types refuse what the addon would refuse.
import {
  Client,
  Emulator,
  ZcrmError,
  errorCodes,
  type AbortSignalLike,
  type BulkReport,
  type ErrorCategory,
  type RowOutcome,
  type UpdateResult,
} from 'zcrm-extid'

interface Pair {
  External_Contact_ID: string
  External_Deal_ID: string
  role?: string
}

interface DealLink {
  External_Deal_ID: string
  Contact_Role?: string | undefined
}

declare const signal: AbortSignalLike
declare function log(...values: unknown[]): void

export async function examples(client: Client): Promise<void> {
  // Records typed by an interface, an optional field left out.
  const records: DealLink[] = [{ External_Deal_ID: 'extdeal3' }, { External_Deal_ID: 'extdeal2', Contact_Role: 'r' }]
  const result: UpdateResult = await client.updateRelated(
    { module: 'Contacts', parent: { field: 'External_Contact_ID', value: 'extcontact3' }, relatedList: 'Deals', relatedField: 'External_Deal_ID', records },
    { signal, timeoutMs: 30_000 },
  )
  for (const o of result.outcomes) log(o.index, o.ok, o.code, o.id ?? o.message)

  // Rows from a generator, an async generator, an array of interfaces.
  function* pairs(): Generator<Pair> {
    yield { External_Contact_ID: 'extcontact3', External_Deal_ID: 'extdeal3' }
  }
  async function* exported(): AsyncGenerator<Pair> {
    yield { External_Contact_ID: 'extcontact3', External_Deal_ID: 'extdeal2', role: 'Buyer' }
  }
  const options = { parent: 'Contacts.External_Contact_ID', related: 'Deals.External_Deal_ID', fields: { Contact_Role: 'role' } }
  const seen: RowOutcome[] = []
  const report: BulkReport = await client.linkMany(exported(), { ...options, onOutcome: (o) => seen.push(o), keepOutcomes: false, signal })
  await client.linkMany(pairs(), options)
  await client.linkMany([{ External_Contact_ID: 'c', External_Deal_ID: 'd' }] as Pair[], { ...options, edition: 'enterprise' })
  log(report.summary.succeeded, seen.length)

  // Reading, with for await.
  for await (const row of client.iterRelated({ module: 'Contacts', parent: '111111000000085009', relatedList: 'Deals', fields: ['Deal_Name'] }, { signal })) {
    log(row.id, row.fields.Deal_Name)
  }

  // Errors: the fields, the generated code and category types, the report of a stopped job.
  try {
    await client.linkMany(pairs(), options)
  } catch (e) {
    if (!(e instanceof ZcrmError)) throw e
    const category: ErrorCategory = e.category
    if (e.name === 'AbortError') log('aborted; rows done so far:', e.report?.summary.succeeded)
    if (e.code === 'INVALID_DATA' || category === 'rate_limited') log(e.retryable, e.status, e.details)
  }
  const retryable = errorCodes().filter((c) => c.retryable).map((c) => c.code)
  log(retryable)

  // What the types refuse:
  // @ts-expect-error a data centre that does not exist
  new Client({ accessToken: 't', dataCenter: 'europe' })
  // @ts-expect-error a misspelled option (the addon refuses it too, naming it)
  await client.linkMany(pairs(), { ...options, parentColum: 'contact' })
  // @ts-expect-error a record field that is not JSON
  await client.updateRelated({ module: 'Contacts', parent: '1', relatedList: 'Deals', records: [{ id: '1', at: () => 1 }] })
  // @ts-expect-error rows must be objects, not strings
  await client.linkMany('rows', options)
}

export function emulatorExample(): Client {
  const emu = Emulator.start({ latencyMs: 50, edition: 'professional' })
  const client = emu.client({ maxRetries: 0 })
  emu.stop()
  return client
}

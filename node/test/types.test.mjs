// index.d.ts accepts idiomatic TypeScript under --strict without @types/node (interfaces, optional fields,
// generators, async generators), and its unions are the core's lists, not a hand-written copy.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

import { zcrm } from './support.mjs'

const here = (p) => fileURLToPath(new URL(p, import.meta.url))
const tsc = here('../../node_modules/typescript/bin/tsc')
const dts = readFileSync(here('../index.d.ts'), 'utf8')

function typecheck(project) {
  const run = spawnSync(process.execPath, [tsc, '-p', project], { encoding: 'utf8' })
  assert.equal(run.status, 0, `tsc -p ${project}:\n${run.stdout}${run.stderr}`)
}

test('tsc --strict accepts the examples (interfaces, optional fields, generators) without @types/node', () => {
  typecheck(here('./types/tsconfig.json'))
})

test("the README's TypeScript blocks type-check with --strict against index.d.ts", (t) => {
  const readme = readFileSync(here('../../README.md'), 'utf8')
  const blocks = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1])
  assert.ok(blocks.length >= 3, `${blocks.length} ts blocks`)
  const dir = here('../../target/readme-ts/')
  rmSync(dir, { recursive: true, force: true })
  mkdirSync(dir, { recursive: true })
  // Only what a README snippet uses of Node itself; the package's own types need none of it.
  writeFileSync(
    `${dir}shims.d.ts`,
    [
      'declare const process: { env: Record<string, string | undefined> }',
      'declare const console: { log(...values: unknown[]): void; error(...values: unknown[]): void }',
      'declare function setTimeout(callback: () => void, ms: number): unknown',
      'declare class AbortController { readonly signal: import("zcrm-extid").AbortSignalLike; abort(reason?: unknown): void }',
    ].join('\n'),
  )
  blocks.forEach((code, i) => writeFileSync(`${dir}block${i}.mts`, `${code}\nexport {}\n`))
  writeFileSync(
    `${dir}tsconfig.json`,
    JSON.stringify({
      compilerOptions: {
        strict: true,
        noEmit: true,
        target: 'es2022',
        lib: ['es2022'],
        types: [],
        module: 'nodenext',
        moduleResolution: 'nodenext',
        paths: { 'zcrm-extid': [here('../index.d.ts')] },
      },
      include: ['*.ts', '*.mts'],
    }),
  )
  typecheck(`${dir}tsconfig.json`)
  t.diagnostic(`${blocks.length} README blocks type-checked`)
})

/** The string literals of `export type name = 'a' | 'b'` in index.d.ts. */
function union(name) {
  const m = dts.match(new RegExp(`export type ${name} =([^\\n]*(?:\\n\\s*\\|[^\\n]*)*)`))
  assert.ok(m, `no type ${name} in index.d.ts`)
  return [...m[1].matchAll(/'([^']*)'/g)].map((x) => x[1])
}

test('ErrorCode, ErrorCategory and the settings unions are the core lists', () => {
  const codes = zcrm.errorCodes()
  assert.deepEqual(union('ErrorCode'), codes.map((c) => c.code))
  assert.deepEqual(new Set(union('ErrorCategory')), new Set(codes.map((c) => c.category)))
  const choices = Object.fromEntries(zcrm.settingsChoices().map((c) => [c.setting, c.values]))
  assert.deepEqual(union('DataCenter'), choices.data_center)
  assert.deepEqual(union('Environment'), choices.environment)
  assert.deepEqual(union('ApiVersion'), choices.api_version)
  assert.deepEqual(union('Edition'), choices.edition)
  assert.deepEqual(union('ErrorKind'), ['InvalidInput', 'InvalidConfig', 'Api', 'Auth', 'Transport', 'Timeout', 'UnexpectedResponse', 'Cancelled', 'Internal'])
  // No type a user without @types/node could not resolve (tsc without them proves it too).
  const code = dts.replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, '')
  assert.doesNotMatch(code, /\bBuffer\b/)
  assert.doesNotMatch(code, /\bAbortSignal\b(?!Like)/)
})

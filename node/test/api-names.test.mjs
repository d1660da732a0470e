// The package's public names are exactly those of tests/conformance/api.json, which python/tests/test_api_names.py
// checks for the Python package too: the two APIs cannot drift apart.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'

import { argumentNames, classes, functions, interfaces } from './dts.mjs'
import { zcrm } from './support.mjs'

const api = JSON.parse(readFileSync(new URL('../../tests/conformance/api.json', import.meta.url), 'utf8'))

const camel = (s) => s.replace(/_([a-z0-9])/g, (_, c) => c.toUpperCase())

/** A param or field entry's Node name (undefined: not in Node). */
function entryName(entry) {
  if (typeof entry === 'string') return camel(entry)
  return entry.node == null ? undefined : camel(entry.node)
}
const names = (entries) => new Set(entries.map(entryName).filter((n) => n !== undefined))
const sorted = (set) => [...set].sort()

/** A method's Node name (undefined: not in Node). */
function memberName(canonical, spec) {
  if ('node' in spec) return spec.node == null ? undefined : spec.node
  return camel(canonical)
}

const callOptions = api.node_call_options.names.map(camel)

for (const [name, spec] of Object.entries(api.classes)) {
  if ('node' in spec && spec.node == null) continue
  test(`class ${name}: methods, their parameters, properties`, () => {
    const declared = classes[name]
    assert.ok(declared, `index.d.ts declares class ${name}`)
    assert.equal(typeof zcrm[name], 'function', `${name} is exported`)
    const expected = new Set()
    for (const [canonical, method] of Object.entries(spec.methods ?? {})) {
      const node = memberName(canonical, method)
      if (node === undefined) continue
      expected.add(node)
      assert.ok(declared.methods[node], `${name}.${node} is declared`)
      if (method.params === 'any') continue
      const want = names(method.params)
      if (method.async) callOptions.forEach((o) => want.add(o))
      assert.deepEqual(sorted(new Set(argumentNames(declared.methods[node]))), sorted(want), `${name}.${node}`)
    }
    if (spec.constructor && typeof spec.constructor === 'object' && 'params' in spec.constructor) {
      const ctor = spec.constructor.node ?? 'constructor'
      expected.add(ctor)
      assert.deepEqual(sorted(new Set(argumentNames(declared.methods[ctor]))), sorted(names(spec.constructor.params)), `${name}.${ctor}`)
    }
    assert.deepEqual(sorted(new Set(Object.keys(declared.methods))), sorted(expected), `${name}'s methods`)
    assert.deepEqual(sorted(new Set(declared.properties)), sorted(names(spec.properties ?? [])), `${name}'s properties`)
  })
}

test('results: the fields of each result interface', () => {
  for (const [name, fields] of Object.entries(api.results)) {
    if (name === '$comment') continue
    assert.ok(interfaces[name], `index.d.ts declares ${name}`)
    assert.deepEqual(sorted(new Set(interfaces[name])), sorted(names(fields)), name)
  }
})

test('functions and their parameters', () => {
  for (const [canonical, spec] of Object.entries(api.functions)) {
    const node = memberName(canonical, spec)
    if (node === undefined) continue
    assert.equal(typeof zcrm[node], 'function', `${node} is exported`)
    assert.ok(functions[node], `index.d.ts declares ${node}`)
    assert.deepEqual(sorted(new Set(argumentNames(functions[node]))), sorted(names(spec.params)), node)
  }
})

test('the fields of ZcrmError', () => {
  const declared = new Set(interfaces.ZcrmError)
  assert.deepEqual(sorted(declared), sorted(names(api.errors.fields)))
})

test('the exports', () => {
  const exported = Object.keys(zcrm).filter((k) => !k.startsWith('__'))
  assert.deepEqual(exported.sort(), [...api.exports.node].sort())
})

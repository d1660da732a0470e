// The package entry (main.js): where no native binary fits, the error names the platform and what to do;
// nothing of the package runs a build when it is installed.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const nodeDir = fileURLToPath(new URL('..', import.meta.url))
const pkg = JSON.parse(readFileSync(join(nodeDir, 'package.json'), 'utf8'))

/** The package's files without any binary and without node_modules: what npm leaves on an unsupported host. */
function bareCopy(t) {
  const dir = mkdtempSync(join(tmpdir(), 'zcrm-loader-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  for (const file of ['main.js', 'index.js', 'package.json']) cpSync(join(nodeDir, file), join(dir, file))
  return dir
}

function requireIn(dir) {
  const env = { ...process.env }
  delete env.NAPI_RS_NATIVE_LIBRARY_PATH
  const script =
    'try { require(process.argv[1]); console.log("loaded") } catch (e) { console.log(JSON.stringify({ code: e.code, message: e.message })) }'
  const run = spawnSync(process.execPath, ['-e', script, join(dir, 'main.js')], { env, encoding: 'utf8' })
  assert.equal(run.status, 0, run.stderr)
  return run.stdout.trim()
}

test('no binary for this platform: the error names the platform and the package to install', (t) => {
  const out = requireIn(bareCopy(t))
  assert.notEqual(out, 'loaded')
  const { code, message } = JSON.parse(out)
  assert.equal(code, 'ZCRM_NATIVE_BINDING_NOT_FOUND')
  assert.match(message, new RegExp(`${process.platform}-${process.arch}`))
  assert.match(message, new RegExp(`Node ${process.version.replaceAll('.', '\\.')}`))
  assert.match(message, new RegExp(`npm install ${pkg.name}-${process.platform}-${process.arch}[a-z-]*@${pkg.version}`))
  assert.doesNotMatch(message, /npm has a bug/)
})

test('a platform without a prebuilt package: the error lists the prebuilt ones and points to a source build', (t) => {
  const dir = bareCopy(t)
  const copy = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'))
  // keep only a target that is not this host
  copy.napi.targets = [process.platform === 'win32' ? 'aarch64-apple-darwin' : 'x86_64-pc-windows-msvc']
  writeFileSync(join(dir, 'package.json'), JSON.stringify(copy))
  const { code, message } = JSON.parse(requireIn(dir))
  assert.equal(code, 'ZCRM_NATIVE_BINDING_NOT_FOUND')
  assert.match(message, /has no prebuilt binary for/)
  assert.match(message, new RegExp(`prebuilt: ${process.platform === 'win32' ? 'darwin-arm64' : 'win32-x64-msvc'}\\.`))
  assert.match(message, /Build it from source \(needs Rust/)
})

test('every published target has its npm/<platform> package folder', () => {
  assert.equal(pkg.napi.targets.length, 7)
  for (const dir of ['linux-x64-gnu', 'linux-x64-musl', 'linux-arm64-gnu', 'linux-arm64-musl', 'darwin-x64', 'darwin-arm64', 'win32-x64-msvc']) {
    const sub = JSON.parse(readFileSync(join(nodeDir, 'npm', dir, 'package.json'), 'utf8'))
    assert.equal(sub.name, `${pkg.name}-${dir}`)
    assert.equal(sub.version, pkg.version)
  }
})

test('installing the package runs no script', () => {
  const lifecycle = ['preinstall', 'install', 'postinstall', 'prepare', 'prepack', 'postpack']
  assert.deepEqual(Object.keys(pkg.scripts ?? {}).filter((s) => lifecycle.includes(s)), [])
})

test("the repository's npm ci still builds the addon for contributors (root prepare -> this package's build)", () => {
  const workspace = JSON.parse(readFileSync(join(nodeDir, '..', 'package.json'), 'utf8'))
  assert.equal(workspace.scripts.prepare, `npm run build --workspace ${pkg.name}`)
  assert.match(pkg.scripts.build, /^napi build --platform --release --manifest-path \.\.\/bindings\/node\/Cargo\.toml --output-dir \.$/)
})

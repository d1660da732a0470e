#!/usr/bin/env node
// Stages the npm packages exactly as they are published, one folder each, for `npm pack` / `npm publish`:
//   <out>/zcrm-extid/                 the main package: node/{main.js,index.js,index.d.ts,README.md}, LICENSE,
//                                     package.json with `optionalDependencies` on every per-platform package
//                                     (what `napi pre-publish` adds) and without `scripts`/`devDependencies`
//                                     (nothing runs at install time, nothing refers to the source tree)
//   <out>/zcrm-extid-<platform>/      node/npm/<platform>/ (made by `napi create-npm-dirs`) with its binary
//                                     (put there by `napi artifacts`, or else as `napi build` left it in node/)
//                                     and LICENSE
// A platform whose binary is missing is skipped (CI builds linux-x64-gnu only); `--all` makes that an error
// (the release workflow). Versions must agree: Cargo workspace = node/package.json = node/npm/*/package.json.
// Usage: node .ci/npm-stage.mjs <out-dir> [--all]
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const args = process.argv.slice(2)
const out = args.find((a) => !a.startsWith('--'))
const requireAll = args.includes('--all')
if (!out) {
  console.error('usage: node .ci/npm-stage.mjs <out-dir> [--all]')
  process.exit(2)
}
const fail = (message) => {
  console.error(`npm-stage: ${message}`)
  process.exit(1)
}
const readJson = (path) => JSON.parse(readFileSync(path, 'utf8'))

const nodeDir = join(root, 'node')
const main = readJson(join(nodeDir, 'package.json'))
const cargoVersion = /\[workspace\.package\][^[]*?\nversion\s*=\s*"([^"]+)"/.exec(
  readFileSync(join(root, 'Cargo.toml'), 'utf8'),
)?.[1]
if (main.version !== cargoVersion) {
  fail(`node/package.json version ${main.version} != Cargo workspace version ${cargoVersion}`)
}

const platforms = readdirSync(join(nodeDir, 'npm')).sort()
if (platforms.length !== main.napi.targets.length) {
  fail(`node/npm has ${platforms.length} folders for ${main.napi.targets.length} napi.targets: run napi create-npm-dirs`)
}

rmSync(out, { recursive: true, force: true })
const optionalDependencies = {}
const staged = []
for (const platform of platforms) {
  const dir = join(nodeDir, 'npm', platform)
  const pkg = readJson(join(dir, 'package.json'))
  if (pkg.version !== main.version) fail(`${pkg.name} is ${pkg.version}, not ${main.version}: run napi version`)
  if (pkg.name !== `${main.name}-${platform}`) fail(`node/npm/${platform} holds ${pkg.name}`)
  optionalDependencies[pkg.name] = pkg.version
  const binary = [join(dir, pkg.main), join(nodeDir, pkg.main)].find((path) => existsSync(path))
  if (!binary) {
    if (requireAll) fail(`${pkg.name}: ${pkg.main} missing (napi artifacts puts it there)`)
    continue
  }
  const dest = join(out, pkg.name)
  mkdirSync(dest, { recursive: true })
  for (const file of ['package.json', 'README.md']) cpSync(join(dir, file), join(dest, file))
  cpSync(binary, join(dest, pkg.main))
  cpSync(join(root, 'LICENSE'), join(dest, 'LICENSE'))
  staged.push(pkg.name)
}

const dest = join(out, main.name)
mkdirSync(dest, { recursive: true })
for (const file of [...main.files, 'README.md']) cpSync(join(nodeDir, file), join(dest, file))
cpSync(join(root, 'LICENSE'), join(dest, 'LICENSE'))
const published = { ...main, optionalDependencies }
delete published.scripts
delete published.devDependencies
writeFileSync(join(dest, 'package.json'), `${JSON.stringify(published, null, 2)}\n`)
staged.unshift(main.name)
console.log(`npm-stage: ${staged.join(', ')} in ${out}`)

'use strict'
// The package's entry point (hand-written; `index.js` beside it is the loader `napi build` generates).
//
// The generated loader finds the native addon: a local build (`zcrm-extid.<platform>.node`, the contributor
// flow) or the per-platform package npm installed as an optional dependency (`zcrm-extid-<platform>`, the
// user flow). When none fits it throws a message about an npm bug; this file replaces that with one that
// names the platform and says what to do. On success it only re-exports the loader: `module.exports =
// require(...)` is the form Node's CommonJS export detection follows, so `import { Client } from
// 'zcrm-extid'` works from ES modules.

const { name: PACKAGE, version: VERSION, napi } = require('./package.json')

/** The platform suffix napi-rs gives binaries and packages: linux-x64-gnu, darwin-arm64, win32-x64-msvc. */
function platformSuffix() {
  const { platform, arch } = process
  if (platform === 'win32') return `${platform}-${arch}-msvc`
  if (platform !== 'linux') return `${platform}-${arch}`
  let glibc = false
  try {
    glibc = Boolean(process.report.getReport().header.glibcVersionRuntime)
  } catch {
    // no report (an unusual build of Node): assume glibc, by far the most common
    glibc = true
  }
  return `${platform}-${arch}-${glibc ? 'gnu' : 'musl'}`
}

/** The suffixes of the packages this version publishes, from `napi.targets` in package.json. */
function publishedSuffixes() {
  const arch = { x86_64: 'x64', aarch64: 'arm64' }
  const os = { 'unknown-linux': 'linux', 'apple-darwin': 'darwin', 'pc-windows': 'win32' }
  return napi.targets.map((triple) => {
    const [cpu, ...rest] = triple.split('-')
    const abi = rest.length === 3 ? `-${rest[2]}` : ''
    return `${os[`${rest[0]}-${rest[1]}`]}-${arch[cpu]}${abi}`
  })
}

/** The loader's error, rewritten: which platform, which package, what to do. */
function noBindingError(cause) {
  const suffix = platformSuffix()
  const pkg = `${PACKAGE}-${suffix}`
  const where = `${suffix} (Node ${process.version})`
  let advice
  if (!publishedSuffixes().includes(suffix)) {
    advice =
      `${PACKAGE} ${VERSION} has no prebuilt binary for ${where}; prebuilt: ${publishedSuffixes().join(', ')}. ` +
      'Build it from source (needs Rust, https://rustup.rs): see "Develop" in the project README.'
  } else {
    let installed = false
    try {
      require.resolve(`${pkg}/package.json`)
      installed = true
    } catch {
      // not installed
    }
    advice = installed
      ? `${PACKAGE} could not load its binary for ${where} from ${pkg}: ${loadFailure(pkg)}. ` +
        `Reinstall ${PACKAGE} (the versions of ${PACKAGE} and ${pkg} must both be ${VERSION}).`
      : `${PACKAGE} could not find its binary for ${where}: the optional dependency ${pkg}@${VERSION} is not ` +
        `installed. Reinstall without --omit=optional / --no-optional, or add it: npm install ${pkg}@${VERSION}`
  }
  const error = new Error(advice)
  error.code = 'ZCRM_NATIVE_BINDING_NOT_FOUND'
  error.cause = cause
  return error
}

/** Why the installed platform package does not load (e.g. `GLIBC_2.17' not found), first line only. */
function loadFailure(pkg) {
  try {
    require(pkg)
    return 'it loads on its own, so the loader rejected it (set NAPI_RS_NATIVE_LIBRARY_PATH?)'
  } catch (e) {
    return String((e && e.message) || e).split('\n')[0]
  }
}

try {
  require('./index.js')
} catch (e) {
  throw noBindingError(e)
}
module.exports = require('./index.js')

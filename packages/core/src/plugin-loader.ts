import { existsSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, isAbsolute, join, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { InvalidOptionsError } from './errors.js'

export interface LoadPluginsOptions {
  /**
   * Folder that relative paths (`./my-index.js`) and package names are resolved from: a config
   * file's folder, or the host's. @default process.cwd()
   */
  from?: string
  /** How the list is named in errors: `config.plugins`, `--plugin`. @default 'config.plugins' */
  field?: string
}

/**
 * Imports plugin modules, in order, for what they register on import (`overlays.register(…)`,
 * `transports.register(…)`, `indexes.register(…)`): package names (`@acme/overlay-randomwalk`),
 * relative paths (`./my-index.js`, from `options.from`), absolute paths or `file:` URLs. A module
 * already loaded is not run again. A plugin that cannot be found or throws while loading is an
 * `InvalidOptionsError` naming it and why, with the original error as its cause.
 *
 * A plugin module must not need its host to have loaded anything first: if it uses decorators
 * (tsyringe's `@injectable`), its first line is `import 'reflect-metadata'` (which installs once;
 * a second import is harmless), so it also works when preloaded with `node --import`.
 */
export async function loadPlugins(list: readonly string[], options: LoadPluginsOptions = {}): Promise<void> {
  const from = resolve(options.from ?? process.cwd())
  const field = options.field ?? 'config.plugins'
  for (const [i, spec] of list.entries()) {
    const where = `${field}[${i}]`
    if (typeof spec !== 'string' || spec.trim() === '') {
      throw new InvalidOptionsError(`${where} must be a module name or path (got ${JSON.stringify(spec)})`)
    }
    const url = resolvePlugin(spec, from)
    try {
      await import(url)
    } catch (err) {
      throw new InvalidOptionsError(
        `${where}: plugin '${spec}' failed to load (from ${from}): ${reason(err)}`,
        { cause: err },
      )
    }
  }
}

/**
 * A file URL for paths; for a package name, its entry as `import` would find it from `from`
 * (node_modules upward, the "node"/"import"/"default" conditions of its exports), else as `require`
 * would, else the name itself, which import() resolves from the application that loaded core
 * (and whose failure it reports).
 */
function resolvePlugin(spec: string, from: string): string {
  if (spec.startsWith('file:')) return spec
  if (isPath(spec)) return pathToFileURL(isAbsolute(spec) ? spec : resolve(from, spec)).href
  const entry = packageEntry(spec, from)
  if (entry) return pathToFileURL(entry).href
  try {
    return pathToFileURL(createRequire(join(from, 'package.json')).resolve(spec)).href
  } catch {
    return spec // not found from `from`: import() tries from here and reports the failure
  }
}

const CONDITIONS = new Set(['node', 'import', 'default'])

interface Manifest {
  main?: string
  exports?: unknown
}

/** The file `spec` (`name`, `@scope/name`, `name/subpath`) names in the nearest node_modules from `from`. */
function packageEntry(spec: string, from: string): string | undefined {
  const parts = spec.split('/')
  const nameParts = spec.startsWith('@') ? 2 : 1
  const name = parts.slice(0, nameParts).join('/')
  const subpath = ['.', ...parts.slice(nameParts)].join('/')
  for (let dir = from; ; dir = dirname(dir)) {
    const root = join(dir, 'node_modules', name)
    const manifest = readManifest(join(root, 'package.json'))
    if (manifest) {
      const target = exportTarget(manifest, subpath)
      return target === undefined ? undefined : join(root, target)
    }
    if (dirname(dir) === dir) return undefined
  }
}

function readManifest(path: string): Manifest | undefined {
  if (!existsSync(path)) return undefined
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as Manifest
  } catch {
    return undefined // a damaged package.json: require() and import() then report it themselves
  }
}

function exportTarget(manifest: Manifest, subpath: string): string | undefined {
  const { exports } = manifest
  if (exports === undefined || exports === null) {
    return subpath === '.' ? (manifest.main ?? 'index.js') : subpath
  }
  const bySubpath =
    typeof exports === 'object' &&
    !Array.isArray(exports) &&
    Object.keys(exports).some((k) => k.startsWith('.'))
  if (bySubpath) return condition((exports as Record<string, unknown>)[subpath])
  return subpath === '.' ? condition(exports) : undefined
}

/** The first target whose condition Node's import would take (in the object's own order). */
function condition(entry: unknown): string | undefined {
  if (typeof entry === 'string') return entry
  if (Array.isArray(entry)) {
    for (const e of entry) {
      const target = condition(e)
      if (target) return target
    }
    return undefined
  }
  if (entry === null || typeof entry !== 'object') return undefined
  for (const [key, value] of Object.entries(entry)) {
    if (!CONDITIONS.has(key)) continue
    const target = condition(value)
    if (target) return target
  }
  return undefined
}

function isPath(spec: string): boolean {
  return spec.startsWith('./') || spec.startsWith('../') || spec === '.' || spec === '..' || isAbsolute(spec)
}

function reason(err: unknown): string {
  if (!(err instanceof Error)) return String(err)
  const code = (err as { code?: string }).code
  if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') {
    return `not found (${err.message.split('\n')[0]})`
  }
  return `${err.name}: ${err.message.split('\n')[0]}`
}

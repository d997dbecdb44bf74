import { execFile } from 'node:child_process'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { promisify } from 'node:util'
import test from 'ava'
import { type CodeBlock, docFiles, extractBlocks, snippetName } from '../src/index.js'

const run = promisify(execFile)
const root = resolve('../..')
const here = resolve('.')
const out = join(here, '.snippets')

const files = await docFiles(root)
const blocks: CodeBlock[] = []
for (const file of files) blocks.push(...extractBlocks(await readFile(join(root, file), 'utf8'), file))
const runnable = blocks.filter((b) => b.runs)

/** Diagnostics of the one compilation of every snippet, by snippet file name. */
async function compileAll(): Promise<Map<string, string[]>> {
  await rm(out, { recursive: true, force: true })
  await mkdir(out, { recursive: true })
  for (const b of runnable) await writeFile(join(out, snippetName(b)), `${b.code}\nexport {}\n`)
  await writeFile(
    join(out, 'tsconfig.json'),
    JSON.stringify({
      extends: '../../../tsconfig.json',
      // Readers' code: strict, but without noUncheckedIndexedAccess, which few applications turn on.
      compilerOptions: {
        rootDir: '.',
        outDir: 'dist',
        noUncheckedIndexedAccess: false,
        declaration: false,
        declarationMap: false,
      },
      include: ['*.ts'],
    }),
  )
  const diagnostics = new Map<string, string[]>()
  try {
    await run(join(root, 'node_modules/.bin/tsc'), ['-p', join(out, 'tsconfig.json')], { cwd: here })
  } catch (err) {
    const text = `${(err as { stdout?: string }).stdout ?? ''}${(err as { stderr?: string }).stderr ?? ''}`
    for (const line of text.split('\n')) {
      const m = /([^/\s(]+\.ts)[(:]/.exec(line)
      if (!m) continue
      const list = diagnostics.get(m[1] as string) ?? []
      list.push(line.trim())
      diagnostics.set(m[1] as string, list)
    }
    if (diagnostics.size === 0) throw err // tsc failed without naming a snippet: a broken set-up, not a broken doc
  }
  return diagnostics
}

const compiled = compileAll()

/** Packages whose README examples are test files of another package, run there (not programs on their own). */
const EXEMPT: Record<string, string> = {
  'packages/compliance/README.md':
    'its examples are ava test files; every adapter and overlay runs them as test/compliance.test.ts',
}

/** How long one program may run (a loaded machine with two CPU-burning processes beside it included). */
const RUN_LIMIT = 90_000

/** Two programs at a time: each starts peers of its own, and the machine may have two cores. */
let running = 0
const queue: Array<() => void> = []
async function slot<T>(fn: () => Promise<T>): Promise<T> {
  if (running >= 2) await new Promise<void>((resolve) => queue.push(resolve))
  running++
  try {
    return await fn()
  } finally {
    running--
    queue.shift()?.()
  }
}

test('every workspace has a README with at least one block that runs', async (t) => {
  for (const group of ['packages', 'adapters']) {
    const { readdir } = await import('node:fs/promises')
    for (const name of await readdir(join(root, group))) {
      const readme = join(group, name, 'README.md')
      t.true(files.includes(readme), `${readme} is missing`)
      if (EXEMPT[readme]) continue
      t.true(
        runnable.some((b) => b.file === readme),
        `${readme} has no block that runs (a ts block without "sketch")`,
      )
    }
  }
})

for (const block of runnable) {
  test(`${block.file}:${block.line} compiles and runs`, async (t) => {
    const errors = (await compiled).get(snippetName(block)) ?? []
    t.deepEqual(errors, [], `type errors in the block at ${block.file}:${block.line}`)
    if (errors.length > 0) return
    const cwd = await mkdtemp(join(tmpdir(), 'peerkit-doc-'))
    t.teardown(() => rm(cwd, { recursive: true, force: true }))
    const js = join(out, 'dist', snippetName(block).replace(/\.ts$/, '.js'))
    await mkdir(dirname(js), { recursive: true })
    try {
      await slot(() => run(process.execPath, ['--enable-source-maps', js], { cwd, timeout: RUN_LIMIT }))
      t.pass()
    } catch (err) {
      const e = err as { code?: number; signal?: string; stdout?: string; stderr?: string }
      t.fail(
        `${block.file}:${block.line} exited with ${e.code ?? e.signal}\n--- stdout\n${e.stdout}\n--- stderr\n${e.stderr}`,
      )
    }
  })
}

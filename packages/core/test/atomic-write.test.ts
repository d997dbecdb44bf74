import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import test from 'ava'
import { removeStaleTemps, writeFileAtomic } from '../src/index.js'

async function tempDir(t: { teardown(fn: () => unknown): void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'peerkit-atomic-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  return dir
}

test('writeFileAtomic writes the whole file with its mode and leaves no temporary file', async (t) => {
  const dir = await tempDir(t)
  const file = join(dir, 'secret')
  t.true(await writeFileAtomic(file, 'one', { mode: 0o600 }))
  t.is(await readFile(file, 'utf8'), 'one')
  t.is((await stat(file)).mode & 0o777, 0o600)
  t.true(await writeFileAtomic(file, 'two'))
  t.is(await readFile(file, 'utf8'), 'two')
  t.deepEqual(await readdir(dir), ['secret'])
})

test('writeFileAtomic with replace: false keeps the file already there', async (t) => {
  const dir = await tempDir(t)
  const file = join(dir, 'identity.key')
  await writeFile(file, 'first')
  t.false(await writeFileAtomic(file, 'second', { replace: false }))
  t.is(await readFile(file, 'utf8'), 'first')
  t.deepEqual(await readdir(dir), ['identity.key'])
  const fresh = join(dir, 'other')
  t.true(await writeFileAtomic(fresh, 'x', { replace: false }))
  t.is(await readFile(fresh, 'utf8'), 'x')
  t.deepEqual((await readdir(dir)).sort(), ['identity.key', 'other'])
})

test('removeStaleTemps removes the temporary files of dead processes only', async (t) => {
  const dir = await tempDir(t)
  const file = join(dir, 'identity.key')
  // PID 2^22 + 1 is above Linux's pid_max limit, so it never runs; our own PID does.
  const dead = join(dir, `.identity.key.${2 ** 22 + 1}.abcdef.tmp`)
  const alive = join(dir, `.identity.key.${process.pid}.abcdef.tmp`)
  const unrelated = join(dir, '.other.1.tmp')
  for (const f of [dead, alive, unrelated]) await writeFile(f, '')
  t.is(await removeStaleTemps(file), 1)
  t.deepEqual((await readdir(dir)).sort(), [`.identity.key.${process.pid}.abcdef.tmp`, '.other.1.tmp'].sort())
  t.is(await removeStaleTemps(join(dir, 'missing', 'x')), 0)
})

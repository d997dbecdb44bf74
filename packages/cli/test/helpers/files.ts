import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { ExecutionContext } from 'ava'
import { sampleBytes } from '../../src/demo/sample-files.js'

export const MOVIE = 'Harry.Potter.and.the.Chamber.of.Secrets.mkv'
export const MOVIE_SIZE = 700_000

/** A temp folder removed at teardown. */
export async function tempDir(t: ExecutionContext, label: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), `peerkit-cli-${label}-`))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  return dir
}

/** A folder to share: the movie (deterministic bytes) and a text file. Returns the folder and the movie's bytes. */
export async function shareFolder(root: string, name: string): Promise<{ dir: string; movie: Buffer }> {
  const dir = join(root, name)
  await mkdir(dir, { recursive: true })
  const movie = sampleBytes(MOVIE, MOVIE_SIZE)
  await writeFile(join(dir, MOVIE), movie)
  await writeFile(join(dir, `${name}-notes.txt`), `notes of ${name}`)
  return { dir, movie }
}

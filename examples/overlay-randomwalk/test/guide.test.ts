import { readdir, readFile } from 'node:fs/promises'
import test from 'ava'

// The guide's sketches are excerpts of src/, word for word; its last block is the README's program.
// (Blocks are read as packages/doc-tests reads them; it is not a dependency, so that it may depend on the examples.)
const blocks = (md: string) =>
  [...md.matchAll(/^```ts( sketch)?\n([\s\S]*?)\n```$/gm)].map((m) => ({ sketch: !!m[1], code: m[2] ?? '' }))
const guide = blocks(await readFile('../../docs/guides/writing-an-overlay.md', 'utf8'))
const names = (await readdir('src', { recursive: true })).filter((n) => n.endsWith('.ts'))
const src = await Promise.all(names.map((n) => readFile(`src/${n}`, 'utf8')))

test('every sketch block of writing-an-overlay.md is in src/ word for word', (t) => {
  const sketches = guide.filter((b) => b.sketch)
  t.true(sketches.length >= 10, `${sketches.length} sketch blocks`)
  for (const b of sketches)
    t.true(
      src.some((f) => f.includes(b.code)),
      `not in src/: ${b.code.slice(0, 80)}`,
    )
})

test('writing-an-overlay.md ends with the README’s program, naming the package (doc-tests runs it)', async (t) => {
  const readme = blocks(await readFile('README.md', 'utf8')).filter((b) => !b.sketch)
  t.false(guide.at(-1)?.sketch)
  t.is(guide.at(-1)?.code, readme[0]?.code)
  t.true(guide.at(-1)?.code.includes("'@peerkit/example-overlay-randomwalk'"))
})

import { readdir, readFile } from 'node:fs/promises'
import { join, relative } from 'node:path'

const RUNNABLE = new Set(['ts', 'typescript', 'js', 'javascript', 'mjs'])
/** The fenced blocks of `markdown`, in order. Fences are three or more backticks or tildes. */
export function extractBlocks(markdown, file) {
  const lines = markdown.split('\n')
  const out = []
  for (let i = 0; i < lines.length; i++) {
    const open = /^( {0,3})(`{3,}|~{3,})\s*([^`\s]*)\s*(.*)$/.exec(lines[i])
    if (!open) continue
    const fence = open[2]
    const lang = open[3].toLowerCase()
    const flags = open[4].split(/\s+/).filter(Boolean)
    const body = []
    let j = i + 1
    while (j < lines.length && !lines[j].trimStart().startsWith(fence)) body.push(lines[j++])
    out.push({
      file,
      line: i + 1,
      lang,
      flags,
      code: body.join('\n'),
      runs: RUNNABLE.has(lang) && !flags.includes('sketch'),
    })
    i = j
  }
  return out
}
const SKIP_DIRS = new Set(['node_modules', 'dist', '.turbo', '.snippets', '.git', 'benchmarks'])
/** The markdown files whose blocks are checked: README.md and CONTRIBUTING.md at the root, docs/, and every workspace's README. */
export async function docFiles(root) {
  const found = []
  const walk = async (dir, depth) => {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name)
      if (entry.isDirectory()) {
        if (!SKIP_DIRS.has(entry.name) && depth > 0) await walk(path, depth - 1)
      } else if (entry.name.endsWith('.md')) found.push(relative(root, path))
    }
  }
  for (const top of ['README.md', 'CONTRIBUTING.md']) found.push(top)
  await walk(join(root, 'docs'), 3)
  for (const group of ['packages', 'adapters', 'examples']) {
    for (const entry of await readdir(join(root, group), { withFileTypes: true })) {
      if (entry.isDirectory()) found.push(join(group, entry.name, 'README.md'))
    }
  }
  const present = []
  for (const f of found) {
    try {
      await readFile(join(root, f))
      present.push(f)
    } catch (err) {
      if (err.code !== 'ENOENT') throw err // a workspace without a README is reported by the test
    }
  }
  return present.sort()
}
/** A file name for a block: `packages-core-README.md-12.ts`. */
export function snippetName(block) {
  return `${block.file.replace(/[^A-Za-z0-9.]+/g, '-')}-${block.line}.ts`
}
//# sourceMappingURL=extract.js.map

import { readdir, readFile } from 'node:fs/promises'
import { join, relative } from 'node:path'

/** One fenced code block of a markdown file. */
export interface CodeBlock {
  /** The markdown file, relative to the repository root. */
  file: string
  /** 1-based line of the opening fence. */
  line: number
  /** The fence's language (`ts`, `json` …), lowercased. */
  lang: string
  /** The words after the language (`sketch`). */
  flags: string[]
  code: string
  /** True when the block is a program the tests compile and run. */
  runs: boolean
}

const RUNNABLE = new Set(['ts', 'typescript', 'js', 'javascript', 'mjs'])

/** The fenced blocks of `markdown`, in order. Fences are three or more backticks or tildes. */
export function extractBlocks(markdown: string, file: string): CodeBlock[] {
  const lines = markdown.split('\n')
  const out: CodeBlock[] = []
  for (let i = 0; i < lines.length; i++) {
    const open = /^( {0,3})(`{3,}|~{3,})\s*([^`\s]*)\s*(.*)$/.exec(lines[i] as string)
    if (!open) continue
    const fence = open[2] as string
    const lang = (open[3] as string).toLowerCase()
    const flags = (open[4] as string).split(/\s+/).filter(Boolean)
    const body: string[] = []
    let j = i + 1
    while (j < lines.length && !(lines[j] as string).trimStart().startsWith(fence))
      body.push(lines[j++] as string)
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
export async function docFiles(root: string): Promise<string[]> {
  const found: string[] = []
  const walk = async (dir: string, depth: number): Promise<void> => {
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
  const present: string[] = []
  for (const f of found) {
    try {
      await readFile(join(root, f))
      present.push(f)
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err // a workspace without a README is reported by the test
    }
  }
  return present.sort()
}

/** A file name for a block: `packages-core-README.md-12.ts`. */
export function snippetName(block: CodeBlock): string {
  return `${block.file.replace(/[^A-Za-z0-9.]+/g, '-')}-${block.line}.ts`
}

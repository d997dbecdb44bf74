// The module hooks trace-imports.ts registers: they run on node's loader thread and record each
// URL an import resolves to.
import { appendFileSync } from 'node:fs'

let file = ''

export function initialize(data: { file: string }): void {
  file = data.file
}

type Next = (specifier: string, context: unknown) => Promise<{ url: string }>

export async function resolve(specifier: string, context: unknown, next: Next): Promise<{ url: string }> {
  const resolved = await next(specifier, context)
  appendFileSync(file, `${resolved.url}\n`)
  return resolved
}

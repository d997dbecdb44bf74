import { type FileHandle, mkdir, open, readFile, rename, rm, stat, writeFile } from 'node:fs/promises'
import { dirname } from 'node:path'
import { chunkRange, equalBytes, hashLeaf, leafAt } from '@peerkit/content'

/** What the sidecar `<to>.part.json` records: which chunks of which file are verified in `<to>.part`. */
interface Sidecar {
  v: 1
  hash: string
  size: number
  chunkSize: number
  /** Bitfield of verified chunks, base64. */
  verified: string
}

export interface PartFileSpec {
  /** The final path; data goes to `<path>.part`, bookkeeping to `<path>.part.json`. */
  path: string
  hash: string
  size: number
  chunkSize: number
  count: number
  leaves: Uint8Array
}

/**
 * A download's file on disk: `<to>.part` (chunks written at their offsets)
 * and a small sidecar listing the verified chunks, saved now and then. On
 * open, the chunks the sidecar lists are read back and verified again; when
 * there is no usable sidecar (a crash before the first save), every chunk of
 * an existing `.part` of the right size is checked. Only whole verified files
 * are renamed into place.
 */
export class PartFile {
  readonly [Symbol.toStringTag] = '@peerkit/transfer:PartFile'
  readonly partPath: string
  readonly sidecarPath: string
  private readonly bits: Uint8Array
  private dirty = false
  private saving: Promise<void> = Promise.resolve()
  private closed = false

  private constructor(
    readonly spec: PartFileSpec,
    private readonly fh: FileHandle,
    /** Chunks found verified on disk at open. */
    readonly resumed: number[],
  ) {
    this.partPath = `${spec.path}.part`
    this.sidecarPath = `${spec.path}.part.json`
    this.bits = new Uint8Array(Math.ceil(spec.count / 8))
    for (const i of resumed) this.bits[i >> 3] = (this.bits[i >> 3] as number) | (1 << (i & 7))
  }

  static async open(spec: PartFileSpec): Promise<PartFile> {
    const partPath = `${spec.path}.part`
    await mkdir(dirname(spec.path), { recursive: true })
    const existing = await stat(partPath).catch(() => undefined)
    const fh = await open(partPath, existing?.isFile() ? 'r+' : 'w+')
    try {
      let resumed: number[] = []
      if (existing?.isFile()) {
        const listed = await readSidecar(`${spec.path}.part.json`, spec)
        const candidates = listed ?? (existing.size === spec.size ? range(spec.count) : [])
        resumed = await verifyOnDisk(fh, spec, candidates)
      }
      if (existing?.size !== spec.size) await fh.truncate(spec.size)
      const part = new PartFile(spec, fh, resumed)
      part.dirty = true
      await part.checkpoint()
      return part
    } catch (err) {
      await fh.close().catch(() => {})
      throw err
    }
  }

  /** Writes a verified chunk at its offset; the sidecar records it at the next checkpoint. */
  async write(index: number, data: Uint8Array): Promise<void> {
    const { offset } = chunkRange(index, this.spec.size, this.spec.chunkSize)
    let written = 0
    while (written < data.length) {
      const { bytesWritten } = await this.fh.write(data, written, data.length - written, offset + written)
      written += bytesWritten
    }
    this.bits[index >> 3] = (this.bits[index >> 3] as number) | (1 << (index & 7))
    this.dirty = true
  }

  /** Saves the sidecar (atomically: a temp file renamed over it) if anything changed. */
  checkpoint(): Promise<void> {
    this.saving = this.saving.then(async () => {
      if (!this.dirty || this.closed) return
      this.dirty = false
      const sidecar: Sidecar = {
        v: 1,
        hash: this.spec.hash,
        size: this.spec.size,
        chunkSize: this.spec.chunkSize,
        verified: Buffer.from(this.bits).toString('base64'),
      }
      const tmp = `${this.sidecarPath}.tmp`
      await writeFile(tmp, JSON.stringify(sidecar))
      await rename(tmp, this.sidecarPath)
    })
    return this.saving
  }

  /** Saves the sidecar and closes the file; the `.part` stays for a later resume. */
  async close(): Promise<void> {
    if (this.closed) return
    await this.checkpoint().catch(() => {})
    this.closed = true
    await this.fh.close().catch(() => {})
  }

  /** Flushes to disk, renames `.part` to the final path and removes the sidecar. */
  async finish(): Promise<void> {
    await this.saving.catch(() => {})
    this.closed = true
    await this.fh.sync()
    await this.fh.close()
    await rename(this.partPath, this.spec.path)
    await rm(this.sidecarPath, { force: true })
  }
}

async function readSidecar(path: string, spec: PartFileSpec): Promise<number[] | undefined> {
  let s: Sidecar
  try {
    s = JSON.parse(await readFile(path, 'utf8')) as Sidecar
  } catch {
    return undefined
  }
  if (s?.v !== 1 || s.hash !== spec.hash || s.size !== spec.size || s.chunkSize !== spec.chunkSize)
    return undefined
  const bits = Buffer.from(String(s.verified), 'base64')
  const out: number[] = []
  for (let i = 0; i < spec.count; i++) if (((bits[i >> 3] ?? 0) >> (i & 7)) & 1) out.push(i)
  return out
}

/** The chunks among `candidates` whose bytes on disk match their leaf hash. */
async function verifyOnDisk(fh: FileHandle, spec: PartFileSpec, candidates: number[]): Promise<number[]> {
  const size = (await fh.stat()).size
  const buffer = Buffer.allocUnsafe(spec.chunkSize)
  const ok: number[] = []
  for (const i of candidates) {
    const { offset, length } = chunkRange(i, spec.size, spec.chunkSize)
    if (offset + length > size) continue
    let got = 0
    while (got < length) {
      const { bytesRead } = await fh.read(buffer, got, length - got, offset + got)
      if (bytesRead === 0) break
      got += bytesRead
    }
    if (got !== length) continue
    const leaf = hashLeaf(buffer.subarray(0, length))
    if (equalBytes(leaf, leafAt(spec.leaves, i))) ok.push(i)
  }
  return ok
}

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i)
}

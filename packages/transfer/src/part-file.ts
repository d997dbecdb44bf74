import { chunkRange, equalBytes, hashLeaf, leafAt } from '@peerkit/content'
import { fromBase64, toBase64 } from '@peerkit/core'
import { dirname, type FileHandle, mkdir, open, readFile, rename, rm, stat, writeFile } from './host-files.js'

/** The sidecar format: 2 since ContentHashes commit to the size and chunking (version-2 hashes). */
const SIDECAR_VERSION = 2

/** What the sidecar `<to>.part.json` records: which chunks of which file are verified in `<to>.part`. */
interface Sidecar {
  v: typeof SIDECAR_VERSION
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
 *
 * An existing `.part` is never shortened or overwritten for another file:
 * one whose sidecar names another file (another hash, size or chunk size, or
 * an older sidecar format), or one without a sidecar whose size is not this
 * file's, is renamed aside to `<to>.part.<its hash prefix or "unknown">`
 * (with its sidecar), and `setAside` says where.
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
    /** Where an existing `.part` of another file was moved, if one was. */
    readonly setAside: string | undefined,
  ) {
    this.partPath = `${spec.path}.part`
    this.sidecarPath = `${spec.path}.part.json`
    this.bits = new Uint8Array(Math.ceil(spec.count / 8))
    for (const i of resumed) this.bits[i >> 3] = (this.bits[i >> 3] as number) | (1 << (i & 7))
  }

  static async open(spec: PartFileSpec): Promise<PartFile> {
    const partPath = `${spec.path}.part`
    const sidecarPath = `${spec.path}.part.json`
    await mkdir(dirname(spec.path), { recursive: true })
    let existing = await stat(partPath).catch(() => undefined) // absent: a fresh download
    let listed: number[] | undefined
    let setAside: string | undefined
    if (existing?.isFile()) {
      const sidecar = await readSidecar(sidecarPath)
      if (sidecar && isFor(sidecar, spec)) listed = verifiedIn(sidecar, spec.count)
      else if (sidecar || existing.size !== spec.size) {
        setAside = await moveAside(partPath, sidecarPath, sidecar)
        existing = undefined
      }
    }
    const fh = await open(partPath, existing?.isFile() ? 'r+' : 'w+')
    try {
      let resumed: number[] = []
      if (existing?.isFile()) resumed = await verifyOnDisk(fh, spec, listed ?? range(spec.count))
      // Only this file's own `.part` is ever resized (a fresh one grows from 0).
      if (existing?.size !== spec.size) await fh.truncate(spec.size)
      const part = new PartFile(spec, fh, resumed, setAside)
      part.dirty = true
      await part.checkpoint()
      return part
    } catch (err) {
      await fh.close().catch(() => {}) // the open failed; its own error is what the caller needs
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
        v: SIDECAR_VERSION,
        hash: this.spec.hash,
        size: this.spec.size,
        chunkSize: this.spec.chunkSize,
        verified: toBase64(this.bits),
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
    await this.checkpoint().catch(() => {}) // a sidecar not saved only costs re-checking those chunks on resume
    this.closed = true
    await this.fh.close().catch(() => {}) // closing at the end: nothing is written after it, nothing left to lose
  }

  /** Flushes to disk, renames `.part` to the final path and removes the sidecar. */
  async finish(): Promise<void> {
    await this.saving.catch(() => {}) // the sidecar is removed below; a failed last save of it loses nothing
    this.closed = true
    await this.fh.sync()
    await this.fh.close()
    await rename(this.partPath, this.spec.path)
    await rm(this.sidecarPath, { force: true })
  }
}

/** The sidecar at `path`, of any version, or `undefined` when there is none or it does not parse. */
async function readSidecar(path: string): Promise<Partial<Sidecar> | undefined> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch {
    return undefined // no sidecar: a crash before the first save, or never one
  }
  try {
    const s = JSON.parse(text) as unknown
    return s && typeof s === 'object' ? (s as Partial<Sidecar>) : undefined
  } catch {
    return undefined // a damaged sidecar lists nothing; the chunks on disk are checked instead
  }
}

function isFor(s: Partial<Sidecar>, spec: PartFileSpec): boolean {
  return (
    s.v === SIDECAR_VERSION && s.hash === spec.hash && s.size === spec.size && s.chunkSize === spec.chunkSize
  )
}

/** A damaged bitfield lists nothing (the chunks on disk are checked instead). */
function safeBase64(text: string): Uint8Array {
  try {
    return fromBase64(text)
  } catch {
    return new Uint8Array(0) // not base64: as if no chunk were listed
  }
}

function verifiedIn(s: Partial<Sidecar>, count: number): number[] {
  const bits = safeBase64(String(s.verified))
  const out: number[] = []
  for (let i = 0; i < count; i++) if (((bits[i >> 3] ?? 0) >> (i & 7)) & 1) out.push(i)
  return out
}

/** Renames another file's `.part` (and its sidecar) to a free `<part>.<hash prefix>` name; returns it. */
async function moveAside(
  partPath: string,
  sidecarPath: string,
  sidecar: Partial<Sidecar> | undefined,
): Promise<string> {
  const tag =
    typeof sidecar?.hash === 'string' && /^[0-9a-f]{64}$/.test(sidecar.hash)
      ? sidecar.hash.slice(0, 16)
      : 'unknown'
  let target = `${partPath}.${tag}`
  for (let n = 1; await exists(target); n++) target = `${partPath}.${tag}-${n}`
  await rename(partPath, target)
  if (sidecar) await rename(sidecarPath, `${target}.json`)
  return target
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false, // absent (or unreadable): the name is free to try; rename reports a real failure
  )
}

/** The chunks among `candidates` whose bytes on disk match their leaf hash. */
async function verifyOnDisk(fh: FileHandle, spec: PartFileSpec, candidates: number[]): Promise<number[]> {
  const size = (await fh.stat()).size
  const buffer = new Uint8Array(spec.chunkSize)
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

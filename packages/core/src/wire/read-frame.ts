/**
 * The messages peers send, read in JavaScript: maps with string keys,
 * arrays, ASCII strings, integers of up to 32 bits, float64, booleans, null
 * and binary, which is what every message of the overlays is made of. It
 * gives what msgpackr gives for those bytes (`codec.test.ts` compares them)
 * and leaves everything else to msgpackr (`UNREAD`): other types, a string
 * that is not ASCII, a key that is not a string, bytes that end too soon or
 * too late. Beside msgpackr it spares, for every message:
 *
 * - a DataView (msgpackr makes one for every Buffer it reads, and every
 *   message is a Buffer of its own);
 * - msgpackr's native string extraction in frames of 140 bytes or more: one
 *   string holding the frame's strings, cut into slices that `decode` then
 *   had to copy (`detach`) so that a kept string would not keep the frame;
 *   here a string is a copy from the start;
 * - a new string for every key of such a frame, and for every short value
 *   repeated in every message (a protocol name, a kind): they come from a table of
 *   the keys seen lately (as msgpackr does for small frames), so an object's
 *   properties are set with strings V8 already knows.
 */

/** What `readFrame` returns for bytes it leaves to msgpackr. */
export const UNREAD: unique symbol = Symbol('unread')

/** Thrown inside the reader for anything it leaves to msgpackr (a plain object: no stack trace to capture). */
const BAIL = { bail: true }

/** Keys shorter than this go through the key table. */
const KEY_MAX = 32
/** Entries of the key table (a power of two): a fixed size, whatever keys arrive (a new key replaces an entry). */
const KEY_TABLE_SIZE = 4096
const keyTable: (string | undefined)[] = new Array(KEY_TABLE_SIZE).fill(undefined)

const fromCharCode = String.fromCharCode
/** Eight bytes of a float64, written big-endian first to last in the platform's order. */
const float = new Float64Array(1)
const floatBytes = new Uint8Array(float.buffer)
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1

interface Latin1 extends Uint8Array {
  latin1Slice(start: number, end: number): string
}

// The reader's state, as msgpackr keeps its own: one frame at a time (a frame holds no callback that could
// start another one midway).
let src: Latin1 = new Uint8Array(0) as Latin1
let pos = 0
let end = 0

/**
 * The value `bytes` holds, or `UNREAD` for bytes to read with msgpackr
 * (also for bytes that are not a Node Buffer: the strings are cut with its
 * `latin1Slice`). Never throws.
 */
export function readFrame(bytes: Uint8Array): unknown {
  if (typeof (bytes as Latin1).latin1Slice !== 'function') return UNREAD
  src = bytes as Latin1
  pos = 0
  end = bytes.length
  let value: unknown
  try {
    value = read()
  } catch {
    value = UNREAD // BAIL, or a stack too deep for this frame's nesting: msgpackr says what is wrong
  }
  if (pos !== end) value = UNREAD // bytes left over: msgpackr refuses them with its error
  src = EMPTY
  return value
}

const EMPTY = new Uint8Array(0) as Latin1

function need(n: number): void {
  if (n > end - pos) throw BAIL
}

function u16(): number {
  need(2)
  const s = src
  const v = ((s[pos] as number) << 8) | (s[pos + 1] as number)
  pos += 2
  return v
}

function u32(): number {
  need(4)
  const s = src
  const v =
    (s[pos] as number) * 0x1000000 +
    (((s[pos + 1] as number) << 16) | ((s[pos + 2] as number) << 8) | (s[pos + 3] as number))
  pos += 4
  return v
}

function read(): unknown {
  if (pos >= end) throw BAIL
  const b = src[pos++] as number
  if (b < 0x80) return b
  if (b < 0x90) return readMap(b & 0x0f)
  if (b < 0xa0) return readArray(b & 0x0f)
  if (b < 0xc0) return readString(b & 0x1f)
  if (b >= 0xe0) return b - 0x100
  switch (b) {
    case 0xc0:
      return null
    case 0xc2:
      return false
    case 0xc3:
      return true
    case 0xc4:
      need(1)
      return readBin(src[pos++] as number)
    case 0xc5:
      return readBin(u16())
    case 0xc6:
      return readBin(u32())
    case 0xcb:
      return readFloat64()
    case 0xcc:
      need(1)
      return src[pos++]
    case 0xcd:
      return u16()
    case 0xce:
      return u32()
    case 0xd0: {
      need(1)
      const v = src[pos++] as number
      return v < 0x80 ? v : v - 0x100
    }
    case 0xd1: {
      const v = u16()
      return v < 0x8000 ? v : v - 0x10000
    }
    case 0xd2:
      return u32() | 0
    case 0xd9:
      need(1)
      return readString(src[pos++] as number)
    case 0xda:
      return readString(u16())
    case 0xdb:
      return readString(u32())
    case 0xdc:
      return readArray(u16())
    case 0xdd:
      return readArray(u32())
    case 0xde:
      return readMap(u16())
    case 0xdf:
      return readMap(u32())
    default:
      throw BAIL // float32, 64-bit integers, extensions, the reserved 0xc1
  }
}

function readFloat64(): number {
  need(8)
  const s = src
  if (LITTLE_ENDIAN) for (let i = 0; i < 8; i++) floatBytes[7 - i] = s[pos + i] as number
  else for (let i = 0; i < 8; i++) floatBytes[i] = s[pos + i] as number
  pos += 8
  return float[0] as number
}

function readBin(length: number): Uint8Array {
  need(length)
  const start = pos
  pos += length
  return src.subarray(start, pos)
}

function readArray(length: number): unknown[] {
  if (length > end - pos) throw BAIL // every item takes a byte at least
  // Of its exact length, as msgpackr makes it (pushing would leave room for more: 17 slots for one address).
  const array = new Array<unknown>(length)
  for (let i = 0; i < length; i++) array[i] = read()
  return array
}

function readMap(length: number): Record<string, unknown> {
  if (length > (end - pos) / 2) throw BAIL // every entry takes two bytes at least
  const object: Record<string, unknown> = {}
  for (let i = 0; i < length; i++) {
    let key = readKey()
    if (key === '__proto__') key = '__proto_' // as msgpackr: never the object's prototype
    object[key] = read()
  }
  return object
}

function readKey(): string {
  need(1)
  const b = src[pos] as number
  let length: number
  if (b >= 0xa0 && b < 0xc0) {
    length = b & 0x1f
    pos++
  } else if (b === 0xd9) {
    pos++
    need(1)
    length = src[pos++] as number
  } else throw BAIL // a key that is not a string (msgpackr makes one of it)
  return readString(length)
}

/**
 * A string of `length` bytes. One shorter than `KEY_MAX` comes from the table
 * of those seen lately: keys, and the short values every message repeats (a
 * protocol name, a message's kind) are not made again for every message.
 */
function readString(length: number): string {
  need(length)
  if (length >= KEY_MAX) return ascii(length)
  const s = src
  let h = length
  for (let i = 0; i < length; i++) h = (h * 31 + (s[pos + i] as number)) | 0
  const slot = h & (KEY_TABLE_SIZE - 1)
  const known = keyTable[slot]
  if (known !== undefined && known.length === length) {
    let same = true
    for (let i = 0; i < length; i++)
      if (known.charCodeAt(i) !== s[pos + i]) {
        same = false
        break
      }
    if (same) {
      pos += length
      return known
    }
  }
  const key = ascii(length)
  keyTable[slot] = key
  return key
}

/** The next `length` bytes as a string of their own, when they are ASCII (else msgpackr decodes the UTF-8). */
function ascii(length: number): string {
  const s = src
  const start = pos
  const stop = start + length
  for (let i = start; i < stop; i++) if ((s[i] as number) >= 0x80) throw BAIL
  pos = stop
  // V8 copies strings shorter than 13 characters when it would otherwise make a slice or a rope of them.
  return length > 12 ? s.latin1Slice(start, stop) : short(s, start, length)
}

/** A string of up to 12 ASCII bytes, made at once (one call, no intermediate strings). */
function short(s: Uint8Array, p: number, length: number): string {
  const c = (i: number) => s[p + i] as number
  switch (length) {
    case 0:
      return ''
    case 1:
      return fromCharCode(c(0))
    case 2:
      return fromCharCode(c(0), c(1))
    case 3:
      return fromCharCode(c(0), c(1), c(2))
    case 4:
      return fromCharCode(c(0), c(1), c(2), c(3))
    case 5:
      return fromCharCode(c(0), c(1), c(2), c(3), c(4))
    case 6:
      return fromCharCode(c(0), c(1), c(2), c(3), c(4), c(5))
    case 7:
      return fromCharCode(c(0), c(1), c(2), c(3), c(4), c(5), c(6))
    case 8:
      return fromCharCode(c(0), c(1), c(2), c(3), c(4), c(5), c(6), c(7))
    default: {
      let out = fromCharCode(c(0), c(1), c(2), c(3), c(4), c(5), c(6), c(7))
      for (let i = 8; i < length; i++) out += fromCharCode(c(i))
      return out
    }
  }
}

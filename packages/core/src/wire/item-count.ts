/** Values one message may declare unless told otherwise (`network.maxMessageItems`). */
export const DEFAULT_MAX_MESSAGE_ITEMS = 262_144

/** Bytes that follow a msgpack type byte before the next value, for the fixed-size types. */
const FIXED: Record<number, number> = {
  202: 4,
  203: 8,
  204: 1,
  205: 2,
  206: 4,
  207: 8,
  208: 1,
  209: 2,
  210: 4,
  211: 8,
  212: 2,
  213: 3,
  214: 5,
  215: 9,
  216: 17,
}

/**
 * Counts the values a msgpack message declares (each array item, each map
 * key and value) by reading its headers only, and stops as soon as the count
 * passes `max`: a message of four million empty maps is refused after
 * reading `max` of its bytes, before msgpackr builds a single object. Strings,
 * binaries and extensions are skipped by their length. Malformed input is
 * left to the decoder (the count found so far is returned).
 */
/** The big-endian unsigned integer of 1, 2 or 4 bytes at `pos`; -1 past the end. */
function uint8(b: Uint8Array, pos: number): number {
  return pos + 1 > b.length ? -1 : (b[pos] as number)
}

function uint16(b: Uint8Array, pos: number): number {
  return pos + 2 > b.length ? -1 : ((b[pos] as number) << 8) | (b[pos + 1] as number)
}

function uint32(b: Uint8Array, pos: number): number {
  return pos + 4 > b.length
    ? -1
    : (b[pos] as number) * 2 ** 24 +
        (((b[pos + 1] as number) << 16) | ((b[pos + 2] as number) << 8) | (b[pos + 3] as number))
}

export function countItems(bytes: Uint8Array, max: number): number {
  const n = bytes.length
  let pos = 0
  let expected = 1
  let items = 0
  while (expected > 0 && pos < n) {
    expected--
    const b = bytes[pos++] as number
    let count = 0
    if (b < 0x80 || b >= 0xe0) continue
    if (b < 0x90) count = (b & 0x0f) * 2
    else if (b < 0xa0) count = b & 0x0f
    else if (b < 0xc0) {
      pos += b & 0x1f
      continue
    } else {
      let len = 0
      switch (b) {
        case 0xdc:
          count = uint16(bytes, pos)
          pos += 2
          break
        case 0xdd:
          count = uint32(bytes, pos)
          pos += 4
          break
        case 0xde:
          count = uint16(bytes, pos) * 2
          pos += 2
          break
        case 0xdf:
          count = uint32(bytes, pos) * 2
          pos += 4
          break
        case 0xc4:
        case 0xd9:
          len = uint8(bytes, pos)
          pos += 1
          break
        case 0xc5:
        case 0xda:
          len = uint16(bytes, pos)
          pos += 2
          break
        case 0xc6:
        case 0xdb:
          len = uint32(bytes, pos)
          pos += 4
          break
        case 0xc7:
          len = uint8(bytes, pos) + 1
          pos += 1
          break
        case 0xc8:
          len = uint16(bytes, pos) + 1
          pos += 2
          break
        case 0xc9:
          len = uint32(bytes, pos) + 1
          pos += 4
          break
        default:
          len = FIXED[b] ?? 0
      }
      if (count < 0 || len < 0) return items
      pos += len
    }
    if (count > 0) {
      items += count
      if (items > max) return items
      expected += count
    }
  }
  return items
}

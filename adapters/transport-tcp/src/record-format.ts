// The record format both builds of the record cipher share (record-cipher.ts on Node,
// record-cipher.browser.ts in a browser): constants and the nonce of each record.

/** Bytes of the AEAD tag at the end of every record. */
export const TAG_SIZE = 16
/** Records of at least this many bytes go to the thread pool when offloading is on. */
export const OFFLOAD_THRESHOLD = 16 * 1024
/** A direction must be re-keyed (a new connection) before this many records. */
export const MAX_RECORDS = 2 ** 48

/** The 96-bit nonce of record `counter`: 4 zero bytes, then the counter as a big-endian 64-bit integer. */
export function recordNonce(counter: number): Uint8Array {
  const nonce = new Uint8Array(12)
  const view = new DataView(nonce.buffer)
  view.setUint32(4, Math.floor(counter / 2 ** 32))
  view.setUint32(8, counter >>> 0)
  return nonce
}

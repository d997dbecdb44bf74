// A Web Worker that hashes a file the user picked, chunk by chunk, with WebCrypto:
// leaf = SHA-256(0x00 ‖ chunk), as @peerkit/content's hashLeaf. The page gives it the File and
// the chunk size; it answers the leaves, concatenated.
interface Job {
  id: number
  file: Blob
  chunkSize: number
}

const scope = self as unknown as {
  onmessage: ((ev: MessageEvent<Job>) => void) | null
  postMessage(message: unknown, transfer?: Transferable[]): void
}

scope.onmessage = async (ev) => {
  const { id, file, chunkSize } = ev.data
  try {
    const count = Math.max(1, Math.ceil(file.size / chunkSize))
    const leaves = new Uint8Array(count * 32)
    for (let i = 0; i < count; i++) {
      const chunk = new Uint8Array(
        await file.slice(i * chunkSize, Math.min(file.size, (i + 1) * chunkSize)).arrayBuffer(),
      )
      const prefixed = new Uint8Array(chunk.length + 1)
      prefixed.set(chunk, 1)
      leaves.set(new Uint8Array(await crypto.subtle.digest('SHA-256', prefixed)), i * 32)
    }
    scope.postMessage({ id, leaves }, [leaves.buffer])
  } catch (err) {
    scope.postMessage({ id, error: (err as Error).message })
  }
}

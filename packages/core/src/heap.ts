/**
 * The heap in use after two full garbage collections, for tests that bound what an attack makes a peer hold.
 *
 * It needs V8's `gc`, which a process has only when started with `--expose-gc`: the repository's ava
 * configuration starts its test processes so. The flag is not set at run time (`v8.setFlagsFromString`): V8's
 * flags belong to the whole process, and changing one while another thread's isolate runs is a race that can
 * crash the process.
 */
export function heapAfterGc(): number {
  const gc = (globalThis as { gc?: () => void }).gc
  if (typeof gc !== 'function') {
    throw new Error("heapAfterGc() needs V8's gc: run node with --expose-gc (the ava configuration does)")
  }
  gc()
  gc()
  return process.memoryUsage().heapUsed
}

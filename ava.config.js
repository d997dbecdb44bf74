export default {
  typescript: { rewritePaths: { 'src/': 'dist/src/', 'test/': 'dist/test/' }, compile: false },
  require: ['reflect-metadata'],
  // Test files run in child processes, not worker threads: a native crash (or V8's abort) then ends one file, which
  // ava reports, instead of the whole run with no summary. --expose-gc lets memory tests collect first
  // (heapAfterGc in @peerkit/core/testing); set at run time instead, the flag raced other threads' isolates.
  workerThreads: false,
  nodeArguments: ['--enable-source-maps', '--expose-gc'],
  timeout: '60s',
  concurrency: 2,
  files: ['test/**/*.test.ts'],
}

export default {
  typescript: { rewritePaths: { 'src/': 'dist/src/', 'test/': 'dist/test/' }, compile: false },
  require: ['reflect-metadata'],
  nodeArguments: ['--enable-source-maps'],
  timeout: '60s',
  concurrency: 2,
  files: ['test/**/*.test.ts'],
}

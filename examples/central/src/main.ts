import 'reflect-metadata'
import { Command } from 'commander'
import { run } from './app.js'
import { startDirectory } from './directory.js'

const program = new Command('example-central')
  .description('peerkit example on the central (Napster) overlay: one directory server, any number of peers')
  .showHelpAfterError()

program
  .command('directory')
  .description('run the directory server')
  .requiredOption('--listen <address>', 'address to listen on, e.g. tcp://0.0.0.0:4001')
  .option('--data <dir>', 'folder for the server identity')
  .action(async (o: { listen: string; data?: string }) => {
    const directory = await startDirectory({ listen: [o.listen], dataDir: o.data })
    console.log(`directory ${directory.id} listening on ${directory.addresses().join(', ')}`)
    await untilInterrupted()
    await directory.stop()
  })

program
  .command('peer')
  .description('run a peer: share a folder, search, download the first hit')
  .requiredOption('--join <address...>', 'the directory server address(es)')
  .option('--listen <address>', 'address to listen on', 'tcp://0.0.0.0:0')
  .option('--share <dir>', 'folder to share')
  .option('--search <query>', 'keywords or a content hash')
  .option('--out <dir>', 'folder to download the first hit into')
  .option('--data <dir>', 'folder for the identity key and partial downloads')
  .option('--stay', 'keep serving the shared files until Ctrl-C')
  .action(
    async (o: {
      join: string[]
      listen: string
      share?: string
      search?: string
      out?: string
      data?: string
      stay?: boolean
    }) => {
      const result = await run({
        listen: [o.listen],
        join: o.join,
        share: o.share,
        search: o.search,
        out: o.out,
        dataDir: o.data,
        log: (line) => console.log(line),
      })
      if (o.stay) await untilInterrupted()
      await result.stop()
    },
  )

function untilInterrupted(): Promise<void> {
  console.log('press Ctrl-C to stop')
  return new Promise((resolve) => {
    process.once('SIGINT', () => resolve())
    process.once('SIGTERM', () => resolve())
  })
}

program.parseAsync(process.argv).catch((err: Error) => {
  console.error(`${err.name}: ${err.message}`)
  process.exit(1)
})

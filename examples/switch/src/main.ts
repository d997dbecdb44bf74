import 'reflect-metadata'
import { Command } from 'commander'
import { run } from './app.js'
import { startDirectory } from './directory.js'

const program = new Command('example-switch')
  .description(
    'peerkit example whose overlay comes from a config file: central, flooding, supernode or chord, no code change',
  )
  .showHelpAfterError()

program
  .command('directory')
  .description('run the directory server (for a config file that names the central overlay)')
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
  .requiredOption('--config <file>', 'JSON config file naming the overlay, e.g. config/chord.json')
  .option('--join <address...>', 'address(es) to join through (for central: the directory server)', [])
  .option('--listen <address>', 'address to listen on', 'tcp://0.0.0.0:0')
  .option('--share <dir>', 'folder to share')
  .option('--search <query>', 'keywords or a content hash')
  .option('--out <dir>', 'folder to download the first hit into')
  .option('--data <dir>', 'folder for the identity key and partial downloads')
  .option('--stay', 'keep serving the shared files until Ctrl-C')
  .action(
    async (o: {
      config: string
      join: string[]
      listen: string
      share?: string
      search?: string
      out?: string
      data?: string
      stay?: boolean
    }) => {
      const result = await run({
        config: o.config,
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

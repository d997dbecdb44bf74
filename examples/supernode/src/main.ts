import 'reflect-metadata'
import { Command } from 'commander'
import { run } from './app.js'

const program = new Command('example-supernode')
  .description('peerkit example on the supernode (KaZaA) overlay: supernodes index their leaves')
  .showHelpAfterError()

program
  .command('peer')
  .description('run a peer: share a folder, search, download the first hit')
  .option('--join <address...>', 'any peer(s) already in the network (none for the first peer)', [])
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

/** A TCP server that prints `connection FROM` for every connection it accepts: `node counting-server.js HOST PORT`. */
import { createServer } from 'node:net'

const [host = '0.0.0.0', port = '4001'] = process.argv.slice(2)
createServer((socket) => {
  process.stdout.write(`connection ${socket.remoteAddress}\n`)
  socket.destroy()
}).listen(Number(port), host, () => process.stdout.write('listening\n'))

import test from 'ava'
import { EventEmitter } from 'eventemitter3'
import { type Connection, type ConnectionEvents, RealClock } from '../src/index.js'
import { encode, Mux } from '../src/wire/index.js'

class RecordingConnection extends EventEmitter<ConnectionEvents> implements Connection {
  readonly id = 'told'
  readonly remotePeer = 'tVXXu7FwONy6AoT3c9DX6IFXbm8OGgLC7f4Kc_zNR-w'
  readonly remoteAddress = 'memory://told'
  readonly direction = 'inbound' as const
  closed = false
  reason: Error | undefined
  async send(): Promise<void> {}
  async close(err?: Error): Promise<void> {
    if (this.closed) return
    this.closed = true
    this.reason = err
    this.emit('close', err)
  }
}

test('a remote that says why it closes cannot choose the local error: it is a ProtocolError carrying its words', (t) => {
  for (const name of ['AbortError', 'h(', 'ProtocolError']) {
    const conn = new RecordingConnection()
    new Mux(conn, new RealClock())
    conn.emit('message', encode([2, 0, { name, message: 'going away' }]))
    t.true(conn.closed)
    t.is(conn.reason?.name, 'ProtocolError')
    t.is(conn.reason?.message, `${conn.remotePeer} closed the connection: ${name}: going away`)
    t.is((conn.reason?.cause as Error | undefined)?.name, name, 'the remote name is kept as the cause')
  }
})

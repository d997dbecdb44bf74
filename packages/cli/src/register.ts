// Importing an implementation package registers its name (`overlays`, `transports`, `indexes`,
// `transfers`), so `--overlay chord` or a config file can select it.
import '@peerkit/transport-memory'
import '@peerkit/transport-tcp'
import '@peerkit/transport-webrtc'
import '@peerkit/transport-websocket'
import '@peerkit/index-memory'
import '@peerkit/nat'
import '@peerkit/index-postgres'
import '@peerkit/transfer'
import '@peerkit/overlay-central'
import '@peerkit/overlay-flooding'
import '@peerkit/overlay-supernode'
import '@peerkit/overlay-chord'

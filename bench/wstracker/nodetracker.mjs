// bittorrent-tracker's Server, WebSocket only, for the wstracker benchmark.
// argv[2] is the bittorrent-tracker package directory. Prints {"port": N}
// once listening; on the stdin line "gc" runs a full GC (node --expose-gc)
// and prints "gc-done"; exits when stdin closes.
import { pathToFileURL } from 'node:url'
import path from 'node:path'
import readline from 'node:readline'

const { default: Server } = await import(pathToFileURL(path.join(process.argv[2], 'server.js')).href)

// Announce replies carry interval = this / 5 seconds: 120 s, as Canopy's.
const server = new Server({ http: false, udp: false, stats: false, ws: true, interval: 600 * 1000 })
server.on('warning', () => {}) // client mistakes are not the server's problem
server.on('error', err => { console.error(err); process.exit(1) })
server.listen(0, '127.0.0.1', () => {
  console.log(JSON.stringify({ port: server.ws.address().port }))
})

const rl = readline.createInterface({ input: process.stdin })
rl.on('line', line => {
  if (line === 'gc') {
    if (global.gc) global.gc()
    console.log('gc-done')
  }
})
rl.on('close', () => server.close(() => process.exit(0)))

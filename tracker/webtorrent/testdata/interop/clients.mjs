// Interop driver: two bittorrent-tracker clients (the library p2p-media-loader
// uses) against the tracker at argv[2]; argv[3] is the bittorrent-tracker
// package directory. Prints one JSON line per event; exits 0 after "done".
import { register } from 'node:module'
import { pathToFileURL } from 'node:url'
import path from 'node:path'

register('./hooks.mjs', import.meta.url)

const [trackerURL, btDir] = process.argv.slice(2)
const { default: Client } = await import(pathToFileURL(path.join(btDir, 'client.js')).href)
const stub = await import('webrtc-polyfill')

const out = obj => process.stdout.write(JSON.stringify(obj) + '\n')
const fail = msg => { out({ ev: 'fatal', msg }); process.exit(1) }
setTimeout(() => fail('timeout'), 15000).unref()

const enc = s => new TextEncoder().encode(s)
const hash = 'canopyInteropHash20!' // 20 ASCII chars, like p2p-media-loader's getStreamHash
const ids = { a: '-PM0203-aaaaaaaaaaaa', b: '-PM0203-bbbbbbbbbbbb' }

function makeClient (name) {
  // Distinct URLs so the two clients do not share the pooled socket.
  const c = new Client({ infoHash: enc(hash), peerId: enc(ids[name]), announce: [`${trackerURL}?client=${name}`], port: 6881 })
  const seen = (ev, extra) => out({ ev, who: name, ...extra })
  c.on('update', d => seen('update', { complete: d.complete, incomplete: d.incomplete }))
  c.on('scrape', d => seen('scrape', { complete: d.complete, incomplete: d.incomplete, downloaded: d.downloaded }))
  c.on('peer', p => seen('peer', { id: p.id }))
  c.on('warning', e => seen('warning', { msg: String(e && e.message) }))
  c.on('error', e => seen('error', { msg: String(e && e.message) }))
  return c
}

const once = (c, ev, pred = () => true) => new Promise(resolve => {
  const f = d => { if (pred(d)) { c.removeListener(ev, f); resolve(d) } }
  c.on(ev, f)
})

const a = makeClient('a')
const b = makeClient('b')

a.start()
await once(a, 'update')

const aPeer = once(a, 'peer')
const bPeer = once(b, 'peer')
b.start()
await Promise.all([aPeer, bPeer, once(b, 'update')])

a.scrape()
await once(a, 'scrape')

b.complete()
await once(b, 'update', d => d.complete === 1)
a.scrape()
await once(a, 'scrape')

b.stop()
await once(b, 'update', d => d.complete === 0)
a.scrape()
await once(a, 'scrape')

out({ ev: 'received', list: stub.received })
a.destroy()
b.destroy()
out({ ev: 'done' })
process.exit(0)

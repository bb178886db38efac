// Generates p2pml_golden.json from the TypeScript sources of p2p-media-loader-core and
// -hlsjs 2.3.1 and hls.js 1.7.4 (installed under web/node_modules). From node/superpeer/testdata:
//   ../../../web/node_modules/.bin/esbuild gen_golden.ts --bundle --platform=node --format=esm \
//     --outfile=/tmp/gen_golden.mjs --define:__USE_VARIABLE_SUBSTITUTION__=true \
//     --alias:url-toolkit=./url_toolkit_shim.ts --alias:@svta/cml-id3=./url_toolkit_shim.ts \
//     "--banner:js=import{createRequire}from'module';const require=createRequire(import.meta.url);" \
//   && node /tmp/gen_golden.mjs > p2pml_golden.json
import { serializePeerCommand } from "../../../web/node_modules/p2p-media-loader-core/src/p2p/commands/commands.ts";
import { deserializeCommand } from "../../../web/node_modules/p2p-media-loader-core/src/p2p/commands/binary-command-creator.ts";
import { getStreamHash } from "../../../web/node_modules/p2p-media-loader-core/src/utils/peer.ts";
import { getStreamSwarmId, generateStreamShortId } from "../../../web/node_modules/p2p-media-loader-core/src/utils/stream.ts";
import M3U8Parser from "../../../web/node_modules/hls.js/src/loader/m3u8-parser.ts";
import { SegmentManager } from "../../../web/node_modules/p2p-media-loader-hlsjs/src/segment-manager.ts";
import { sha1 } from "../../../web/node_modules/p2p-media-loader-core/src/utils/hash.ts";

const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");
const out: any = { commands: [], hashes: [], shortIds: [] };
function cmd(name: string, c: any, max = 64 * 1024 - 1) {
  const bufs = serializePeerCommand(c, max);
  out.commands.push({ name, command: c, max, frames: bufs.map(hex) });
}
cmd("announce-empty", { c: 0, l: [], p: [] });
cmd("announce-loaded", { c: 0, l: [100, 101, 102, 255, 256, 257], p: [] });
cmd("announce-both", { c: 0, l: [5, 6, 7], p: [8] });
cmd("announce-big", { c: 0, l: [123456789, 123456790, 123457000, 9007199254740991], p: [1] });
cmd("announce-zero", { c: 0, l: [0, 1], p: [] });
cmd("request", { c: 1, i: 1234, r: 567 });
cmd("request-b", { c: 1, i: 1234, r: 567, b: 65535 });
cmd("request-b0", { c: 1, i: 1234, r: 0, b: 0 });
cmd("data", { c: 2, i: 42, r: 999, s: 1048576 });
cmd("completed", { c: 3, i: 42, r: 999 });
cmd("absent", { c: 4, i: 77, r: 12 });
cmd("cancel", { c: 5, i: 77, r: 12 });
cmd("int-127", { c: 4, i: 127, r: 128 });
cmd("int-neg", { c: 4, i: -5, r: -128 });
cmd("int-max", { c: 4, i: 9007199254740991, r: 255 });
const many = Array.from({ length: 250 }, (_, k) => 1000 + k);
cmd("announce-split", { c: 0, l: many, p: [] }, 64);
cmd("announce-split-2", { c: 0, l: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, 52, 53, 54, 55], p: [] }, 64);
cmd("announce-many-groups", { c: 0, l: [1, 300, 600, 2, 900, 301], p: [] });

for (const s of ["", "abc", "canopy:live:01HZX", "v2-canopy:demo:b1-main-abc", "hé✓"]) {
  out.hashes.push({ in: s, sha1hex: Buffer.from(sha1(s), "latin1").toString("hex"), streamHash: getStreamHash(s) });
}
const sid = (p: any) => generateStreamShortId(p);
const variants = [
  { bitrate: 6000000, codecs: "avc1.640028", width: 1920, height: 1080, frameRate: "29.970", videoRange: undefined },
  { bitrate: 3000000, codecs: "avc1.64001f", width: 1280, height: 720, frameRate: "25.000", videoRange: undefined },
  { bitrate: 800, codecs: undefined, width: undefined, height: undefined, frameRate: undefined, videoRange: undefined },
  { bitrate: 1400000, codecs: "avc1.66.30", width: 854, height: 480, frameRate: "30.000", videoRange: "sdr" },
];
for (const v of variants) {
  const id = sid(v);
  out.shortIds.push({ in: v, shortId: id, swarm: getStreamSwarmId("canopy:demo:01J0", { type: "main", index: id } as any), hash: getStreamHash(getStreamSwarmId("canopy:demo:01J0", { type: "main", index: id } as any)) });
}
// A Canopy master playlist (proto/manifest.HLSMultivariant output, see
// swarmid_test.go) parsed by hls.js 1.7.4 and handed to p2p-media-loader-hlsjs
// 2.3.1's SegmentManager, which registers one stream per level.
const master = "#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-INDEPENDENT-SEGMENTS\n#EXT-X-STREAM-INF:BANDWIDTH=12000000,CODECS=\"hvc1.1.6.L150.B0,mp4a.40.2\",RESOLUTION=3840x2160,FRAME-RATE=59.940\nhevc/index.m3u8\n#EXT-X-STREAM-INF:BANDWIDTH=6000000,AVERAGE-BANDWIDTH=5000000,CODECS=\"avc1.640028,mp4a.40.2\",RESOLUTION=1920x1080,FRAME-RATE=29.970\n1080p/index.m3u8\n#EXT-X-STREAM-INF:BANDWIDTH=3000000,CODECS=\"avc1.64001f,mp4a.40.2\",RESOLUTION=1280x720,FRAME-RATE=25.000\n720p/index.m3u8\n#EXT-X-STREAM-INF:BANDWIDTH=1400000,AVERAGE-BANDWIDTH=1200000,CODECS=\"avc1.4d401e,mp4a.40.2\",RESOLUTION=854x480,FRAME-RATE=30.000\n480p/index.m3u8\n#EXT-X-STREAM-INF:BANDWIDTH=128000,CODECS=\"mp4a.40.2\"\naudio/index.m3u8\n#EXT-X-STREAM-INF:BANDWIDTH=800\nsrc/index.m3u8\n";
const parsed = M3U8Parser.parseMasterPlaylist(master, "https://example.test/live/demo/master.m3u8");
const added: any[] = [];
const fakeCore: any = { addStreamIfNoneExists: (s: any) => added.push(s) };
new SegmentManager(fakeCore).processMainManifest({ levels: parsed.levels, audioTracks: [] } as any);
out.master = { playlist: master, swarmId: "canopy:demo:01J0", streams: added.map((st) => {
  const swarm = getStreamSwarmId("canopy:demo:01J0", st);
  return { url: st.runtimeId, type: st.type, index: st.index, streamSwarmId: swarm, infoHash: getStreamHash(swarm) };
}) };
// decode check
out.decoded = deserializeCommand(Buffer.from(out.commands[5].frames[0], "hex").subarray(4, -4));
console.log(JSON.stringify(out, null, 1));

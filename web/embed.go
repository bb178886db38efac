package web

import "embed"

// bundle is the output of `npm run build` (web/dist). On a fresh clone it
// holds only placeholder.txt, and the pages answer 503 until the app is built.
//
//go:embed dist
var bundle embed.FS

// Package web serves Canopy's browser app: the live stream list at /, the
// player at /watch/{stream}, its bundled assets (built from web/src by
// esbuild into web/dist and embedded with go:embed) and the small JSON
// document the player reads at start (/api/v1/player). It holds no player
// logic itself; that lives in web/src.
package web

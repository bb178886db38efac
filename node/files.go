package node

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/canopylive/canopy/proto"
)

// segFiles keeps a file copy of every cached segment so that HTTP can send
// it with sendfile(2), as a static file server does, instead of copying it
// from memory on every request. The memory copy stays the source of truth:
// a file that is missing or not yet written is served from memory.
type segFiles struct {
	dir  string
	temp bool // made with MkdirTemp: removed on close
}

// newSegFiles uses <dataDir>/segments (emptied first: a restarted node's
// cache starts empty), or a temporary directory without a data dir.
func newSegFiles(dataDir string) (*segFiles, error) {
	if dataDir == "" {
		dir, err := os.MkdirTemp("", "canopy-node-segments-")
		if err != nil {
			return nil, fmt.Errorf("segment files: %w", err)
		}
		return &segFiles{dir: dir, temp: true}, nil
	}
	dir := filepath.Join(dataDir, "segments")
	if err := os.RemoveAll(dir); err != nil {
		return nil, fmt.Errorf("segment files: %w", err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("segment files: %w", err)
	}
	return &segFiles{dir: dir}, nil
}

// path is where rec's copy lives. Records are validated before they are
// cached, so every name part is a safe path element.
func (f *segFiles) path(rec proto.Segment) string {
	return filepath.Join(f.dir, rec.Stream, rec.Broadcast, rec.Rendition, rec.FileName())
}

func (f *segFiles) put(rec proto.Segment, data []byte) error {
	p := f.path(rec)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	tmp := p + ".tmp"
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, p)
}

// remove deletes rec's copy; a response already sending it keeps its open
// file and finishes.
func (f *segFiles) remove(rec proto.Segment) {
	_ = os.Remove(f.path(rec))
}

func (f *segFiles) removeBroadcast(stream, broadcast string) {
	if proto.ValidName(stream) && proto.ValidName(broadcast) {
		_ = os.RemoveAll(filepath.Join(f.dir, stream, broadcast))
	}
}

func (f *segFiles) close() error {
	if f.temp {
		return os.RemoveAll(f.dir)
	}
	return nil
}

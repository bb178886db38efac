package origin

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"sync"

	"github.com/canopylive/canopy/proto"
)

// SegmentStore archives every sealed segment so a broadcast stays playable
// after it ends and after the origin restarts.
type SegmentStore interface {
	// Put archives one segment and its record.
	Put(rec proto.Segment, data []byte) error
	// Get returns the bytes of an archived segment, or ErrNotFound.
	Get(stream, broadcast, rendition, file string) ([]byte, error)
	// PutMeta records a broadcast's renditions and whether it has ended.
	PutMeta(m BroadcastMeta) error
	// Latest returns the newest archived broadcast of every stream with all
	// its records.
	Latest() ([]Archived, error)
}

// BroadcastMeta describes a broadcast for the archive.
type BroadcastMeta struct {
	Stream     string          `json:"stream"`
	Broadcast  string          `json:"broadcast"`
	Renditions []RenditionInfo `json:"renditions"`
	Ended      bool            `json:"ended"`
}

// RenditionInfo is what a player needs to choose a rendition.
type RenditionInfo struct {
	Name      string  `json:"name"`
	Width     int     `json:"width"`
	Height    int     `json:"height"`
	Bitrate   int     `json:"bitrate"` // configured video bits/s; 0 for passthrough
	Codecs    string  `json:"codecs"`
	FrameRate float64 `json:"frame_rate"`
}

// Archived is one broadcast read back from the store.
type Archived struct {
	Meta    BroadcastMeta
	Records []proto.Segment
}

// FileStore is a SegmentStore on the local filesystem:
//
//	<dir>/<stream>/<broadcast>/meta.json
//	<dir>/<stream>/<broadcast>/records.jsonl   one record per line, in order
//	<dir>/<stream>/<broadcast>/<rendition>/<file>
type FileStore struct {
	dir string
	mu  sync.Mutex // serialises appends to records.jsonl
}

// NewFileStore returns a store rooted at dir, creating it.
func NewFileStore(dir string) (*FileStore, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("segment store: %w", err)
	}
	return &FileStore{dir: dir}, nil
}

func (s *FileStore) broadcastDir(stream, broadcast string) string {
	return filepath.Join(s.dir, stream, broadcast)
}

// Put implements SegmentStore.
func (s *FileStore) Put(rec proto.Segment, data []byte) error {
	if err := rec.Validate(); err != nil {
		return fmt.Errorf("archive: %w", err)
	}
	dir := filepath.Join(s.broadcastDir(rec.Stream, rec.Broadcast), rec.Rendition)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("archive: %w", err)
	}
	if err := writeFileAtomic(filepath.Join(dir, rec.FileName()), data); err != nil {
		return fmt.Errorf("archive: %w", err)
	}
	line, err := json.Marshal(&rec)
	if err != nil {
		return fmt.Errorf("archive: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	f, err := os.OpenFile(filepath.Join(s.broadcastDir(rec.Stream, rec.Broadcast), "records.jsonl"), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("archive: %w", err)
	}
	if _, err := f.Write(append(line, '\n')); err != nil {
		f.Close()
		return fmt.Errorf("archive: %w", err)
	}
	return f.Close()
}

// Get implements SegmentStore.
func (s *FileStore) Get(stream, broadcast, rendition, file string) ([]byte, error) {
	if _, _, err := proto.ParseFileName(file); err != nil {
		return nil, ErrNotFound
	}
	for _, part := range []string{stream, broadcast, rendition} {
		if !proto.ValidName(part) {
			return nil, ErrNotFound
		}
	}
	data, err := os.ReadFile(filepath.Join(s.broadcastDir(stream, broadcast), rendition, file))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, ErrNotFound
	}
	return data, err
}

// PutMeta implements SegmentStore.
func (s *FileStore) PutMeta(m BroadcastMeta) error {
	data, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return fmt.Errorf("archive meta: %w", err)
	}
	dir := s.broadcastDir(m.Stream, m.Broadcast)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("archive meta: %w", err)
	}
	return writeFileAtomic(filepath.Join(dir, "meta.json"), data)
}

// Latest implements SegmentStore. Broadcast IDs sort by start time, so the
// newest is the greatest name.
func (s *FileStore) Latest() ([]Archived, error) {
	streams, err := os.ReadDir(s.dir)
	if err != nil {
		return nil, fmt.Errorf("archive: %w", err)
	}
	var out []Archived
	for _, st := range streams {
		if !st.IsDir() || !proto.ValidName(st.Name()) {
			continue
		}
		bs, err := os.ReadDir(filepath.Join(s.dir, st.Name()))
		if err != nil {
			return nil, fmt.Errorf("archive: %w", err)
		}
		names := make([]string, 0, len(bs))
		for _, b := range bs {
			if b.IsDir() && proto.ValidName(b.Name()) {
				names = append(names, b.Name())
			}
		}
		sort.Strings(names)
		for i := len(names) - 1; i >= 0; i-- {
			a, err := s.load(st.Name(), names[i])
			if err != nil {
				continue // an unreadable or empty broadcast: try the one before
			}
			out = append(out, a)
			break
		}
	}
	return out, nil
}

func (s *FileStore) load(stream, broadcast string) (Archived, error) {
	dir := s.broadcastDir(stream, broadcast)
	var a Archived
	data, err := os.ReadFile(filepath.Join(dir, "meta.json"))
	if err != nil {
		return a, err
	}
	if err := json.Unmarshal(data, &a.Meta); err != nil {
		return a, fmt.Errorf("%s: %w", dir, err)
	}
	f, err := os.Open(filepath.Join(dir, "records.jsonl"))
	if err != nil {
		return a, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for sc.Scan() {
		var rec proto.Segment
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			break // a torn last line from a crash: keep what came before
		}
		a.Records = append(a.Records, rec)
	}
	if len(a.Records) == 0 {
		return a, ErrNotFound
	}
	return a, nil
}

func writeFileAtomic(path string, data []byte) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

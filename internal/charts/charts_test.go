package charts

import (
	"bytes"
	"errors"
	"math"
	"os"
	"path/filepath"
	"testing"
)

func sample() Chart {
	return Chart{Title: "Share over time", XLabel: "time (s)", YLabel: "share (%)", Series: []Series{
		{Name: "p2p", X: []float64{0, 1, 2, 3}, Y: []float64{0, 40, 70, 80}},
		{Name: "http", X: []float64{0, 1, 2, 3}, Y: []float64{100, 60, 30, math.NaN()}},
	}}
}

func TestWrite(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name    string
		file    string
		chart   Chart
		wantErr error
		magic   []byte
	}{
		{"svg", "a.svg", sample(), nil, []byte("<svg")},
		{"png", "a.PNG", sample(), nil, []byte("\x89PNG")},
		{"empty chart is still a chart", "e.svg", Chart{Title: "Nothing yet"}, nil, []byte("<svg")},
		{"unknown extension", "a.pdf", sample(), ErrFormat, nil},
		{"no extension", "a", sample(), ErrFormat, nil},
		{"ragged series", "r.svg", Chart{Title: "x", Series: []Series{{X: []float64{1}, Y: nil}}}, ErrSeries, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(dir, tt.file)
			err := Write(path, tt.chart)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("Write: err %v, want %v", err, tt.wantErr)
				}
				if _, err := os.Stat(path); err == nil {
					t.Fatalf("%s written despite the error", path)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Contains(b[:min(len(b), 512)], tt.magic) {
				t.Fatalf("%s does not start like %q: %q", tt.file, tt.magic, b[:min(len(b), 64)])
			}
			if tt.magic[0] == '<' && !bytes.Contains(b, []byte(tt.chart.Title)) {
				t.Fatalf("SVG lacks the title %q", tt.chart.Title)
			}
		})
	}
}

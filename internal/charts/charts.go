package charts

import (
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
)

// ErrFormat is returned for a file name whose extension is neither .svg
// nor .png.
var ErrFormat = errors.New("charts: unsupported format (want .svg or .png)")

// ErrSeries is returned for a series whose X and Y differ in length.
var ErrSeries = errors.New("charts: series X and Y differ in length")

// Series is one line: points (X[i], Y[i]).
type Series struct {
	Name string
	X, Y []float64
}

// Chart is a titled line chart with one line per series.
type Chart struct {
	Title, XLabel, YLabel string
	Series                []Series
}

// Size of every chart.
const (
	width  = 8 * vg.Inch
	height = 4.5 * vg.Inch
)

// Write draws c to path; the extension (.svg or .png) picks the format.
// Points with a NaN or infinite coordinate are left out.
func Write(path string, c Chart) error {
	ext := strings.ToLower(filepath.Ext(path))
	if ext != ".svg" && ext != ".png" {
		return fmt.Errorf("%w: %q", ErrFormat, path)
	}
	p := plot.New()
	p.Title.Text = c.Title
	p.X.Label.Text = c.XLabel
	p.Y.Label.Text = c.YLabel
	p.Legend.Top = true
	p.Add(plotter.NewGrid())
	for i, s := range c.Series {
		if len(s.X) != len(s.Y) {
			return fmt.Errorf("%w: %q has %d x, %d y", ErrSeries, s.Name, len(s.X), len(s.Y))
		}
		xy := make(plotter.XYs, 0, len(s.X))
		for j := range s.X {
			if finite(s.X[j]) && finite(s.Y[j]) {
				xy = append(xy, plotter.XY{X: s.X[j], Y: s.Y[j]})
			}
		}
		if len(xy) == 0 {
			continue
		}
		l, err := plotter.NewLine(xy)
		if err != nil {
			return fmt.Errorf("charts: series %q: %w", s.Name, err)
		}
		l.Color = plotutil.Color(i)
		l.Dashes = plotutil.Dashes(i)
		l.Width = vg.Points(1.5)
		p.Add(l)
		if s.Name != "" {
			p.Legend.Add(s.Name, l)
		}
	}
	if err := p.Save(width, height, path); err != nil {
		return fmt.Errorf("charts: write %s: %w", path, err)
	}
	return nil
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

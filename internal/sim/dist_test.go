package sim

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"
)

func TestParseDist(t *testing.T) {
	tests := []struct {
		spec string
		mean float64
		err  bool
	}{
		{"10M", 10e6, false},
		{"fixed:2.5k", 2500, false},
		{"uniform:1M-3M", 2e6, false},
		{"lognormal:8M,0", 8e6, false},
		{"mix:1M@1,3M@1", 2e6, false},
		{"home", 0.25*1e6 + 0.3*5e6 + 0.3*20e6 + 0.15*100e6, false},
		{"uniform:3M-1M", 0, true},
		{"mix:1M", 0, true},
		{"-5M", 0, true},
		{"gamma:1,2", 0, true},
	}
	r := rand.New(rand.NewPCG(1, 1))
	for _, tt := range tests {
		d, err := ParseDist(tt.spec)
		if tt.err {
			if !errors.Is(err, ErrDist) {
				t.Errorf("%q: err %v, want ErrDist", tt.spec, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", tt.spec, err)
			continue
		}
		if math.Abs(d.Mean()-tt.mean) > 1e-6*tt.mean {
			t.Errorf("%q: mean %v, want %v", tt.spec, d.Mean(), tt.mean)
		}
		var sum float64
		const n = 20000
		for range n {
			sum += d.Sample(r)
		}
		if got := sum / n; math.Abs(got-tt.mean) > 0.05*tt.mean {
			t.Errorf("%q: sample mean %v, want about %v", tt.spec, got, tt.mean)
		}
	}
}

func TestRenditionRate(t *testing.T) {
	if r, err := RenditionRate("144p"); err != nil || r != 200_000+AudioBitrate {
		t.Fatalf("144p: %v %v", r, err)
	}
	if _, err := RenditionRate("4k"); !errors.Is(err, ErrConfig) {
		t.Fatalf("4k: %v", err)
	}
}

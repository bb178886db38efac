package origin

import (
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"testing"
)

func testKey(t testing.TB) ed25519.PrivateKey {
	_, k, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// avcConfig1080 is the AVCDecoderConfigurationRecord that ffmpeg's libx264
// (preset ultrafast) writes into FLV for a 1920x1080 30 fps source.
var avcConfig1080 = []byte{
	0x01, 0x42, 0xc0, 0x28, 0xff, 0xe1, 0x00, 0x19, 0x67, 0x42, 0xc0, 0x28, 0xda, 0x01, 0xe0, 0x08,
	0x9f, 0x97, 0x01, 0x10, 0x00, 0x00, 0x03, 0x00, 0x10, 0x00, 0x00, 0x03, 0x03, 0xc0, 0xf1, 0x83,
	0x2a, 0x01, 0x00, 0x04, 0x68, 0xce, 0x0f, 0xc8,
}

func TestParseAVCConfig(t *testing.T) {
	vi, err := parseAVCConfig(avcConfig1080)
	if err != nil {
		t.Fatal(err)
	}
	if vi.Width != 1920 || vi.Height != 1080 || vi.FPS != 30 {
		t.Errorf("got %+v, want 1920x1080 at 30 fps", vi)
	}
	for _, bad := range [][]byte{nil, {1, 2, 3}, avcConfig1080[:10], make([]byte, 100)} {
		if _, err := parseAVCConfig(bad); !errors.Is(err, ErrBadCodecConfig) {
			t.Errorf("parseAVCConfig(% x) = %v, want ErrBadCodecConfig", bad, err)
		}
	}
}

func TestParseAACConfig(t *testing.T) {
	ai, err := parseAACConfig([]byte{0x11, 0x90}) // AAC-LC, 48 kHz, stereo
	if err != nil {
		t.Fatal(err)
	}
	if ai.ObjectType != 2 || ai.SampleRate != 48000 || ai.Channels != 2 {
		t.Errorf("got %+v", ai)
	}
	if _, err := parseAACConfig([]byte{0x11}); !errors.Is(err, ErrBadCodecConfig) {
		t.Errorf("short config: %v", err)
	}
}

func FuzzParseAVCConfig(f *testing.F) {
	f.Add(avcConfig1080)
	f.Add([]byte{1, 0x42, 0, 0x1e, 0xff, 0xe1, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		vi, err := parseAVCConfig(b)
		if err == nil && (vi.Width < 16 || vi.Height < 16) {
			t.Fatalf("accepted %dx%d", vi.Width, vi.Height)
		}
	})
}

func FuzzParseAACConfig(f *testing.F) {
	f.Add([]byte{0x11, 0x90})
	f.Add([]byte{0x12, 0x10})
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _ = parseAACConfig(b)
	})
}

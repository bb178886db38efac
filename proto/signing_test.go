package proto

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"testing"
	"time"
)

func TestSealVerifyData(t *testing.T) {
	pub, priv := testKey(t, 1)
	otherPub, _ := testKey(t, 2)
	flipped := bytes.Clone(testData)
	flipped[3] ^= 0x01

	for _, tc := range []struct {
		name string
		seg  Segment
		pub  []byte
		data []byte
		want error
	}{
		{"media ok", mediaSegment(), pub, testData, nil},
		{"init ok", initSegment(), pub, testData, nil},
		{"flipped byte", mediaSegment(), pub, flipped, ErrHashMismatch},
		{"truncated", mediaSegment(), pub, testData[:len(testData)-1], ErrLengthMismatch},
		{"empty data", mediaSegment(), pub, nil, ErrLengthMismatch},
		{"other key", mediaSegment(), otherPub, testData, ErrBadSignature},
		{"malformed key", mediaSegment(), pub[:31], testData, ErrBadPublicKey},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := Seal(tc.seg, testData, priv)
			if err := s.Validate(); err != nil {
				t.Fatalf("sealed record invalid: %v", err)
			}
			if s.Length != uint64(len(testData)) || s.SHA256 != sha256.Sum256(testData) {
				t.Fatalf("Seal set Length %d SHA256 %x", s.Length, s.SHA256)
			}
			err := s.VerifyData(tc.pub, tc.data)
			if !errors.Is(err, tc.want) || (tc.want == nil && err != nil) {
				t.Fatalf("VerifyData = %v, want %v", err, tc.want)
			}
		})
	}
}

func TestSealNormalisesTimes(t *testing.T) {
	_, priv := testKey(t, 1)
	in := mediaSegment()
	in.Start = 84*time.Second + 1500 // 1.5 µs
	in.Duration = 2*time.Second + 999
	in.ProgramDateTime = time.Date(2026, 11, 27, 2, 31, 24, 123456789, time.FixedZone("CET", 3600))
	s := Seal(in, testData, priv)
	if s.Start != 84*time.Second+time.Microsecond || s.Duration != 2*time.Second {
		t.Errorf("Start %v Duration %v not truncated to µs", s.Start, s.Duration)
	}
	want := time.Date(2026, 11, 27, 1, 31, 24, 123e6, time.UTC)
	if !s.ProgramDateTime.Equal(want) || s.ProgramDateTime.Location() != time.UTC {
		t.Errorf("ProgramDateTime %v, want %v", s.ProgramDateTime, want)
	}
	if err := s.Validate(); err != nil {
		t.Errorf("Validate: %v", err)
	}
}

func TestSealBadKeyLeavesUnsigned(t *testing.T) {
	pub, priv := testKey(t, 1)
	s := Seal(mediaSegment(), testData, priv[:10])
	if s.Signature != nil {
		t.Fatalf("Signature = %x, want none", s.Signature)
	}
	if err := s.Verify(pub); !errors.Is(err, ErrBadSignature) {
		t.Fatalf("Verify = %v, want ErrBadSignature", err)
	}
}

// TestVerifyEveryField changes each field of a sealed record in turn; every
// change must break the signature.
func TestVerifyEveryField(t *testing.T) {
	pub, priv := testKey(t, 1)
	for _, tc := range []struct {
		name   string
		mutate func(*Segment)
	}{
		{"Stream", func(s *Segment) { s.Stream = "demo2" }},
		{"Broadcast", func(s *Segment) { s.Broadcast = "20261127T013001Z" }},
		{"Rendition", func(s *Segment) { s.Rendition = "1080p" }},
		{"Kind", func(s *Segment) { s.Kind = KindInit }},
		{"Sequence", func(s *Segment) { s.Sequence++ }},
		{"Discontinuity", func(s *Segment) { s.Discontinuity++ }},
		{"Start", func(s *Segment) { s.Start += time.Microsecond }},
		{"Duration", func(s *Segment) { s.Duration -= time.Microsecond }},
		{"ProgramDateTime", func(s *Segment) { s.ProgramDateTime = s.ProgramDateTime.Add(time.Millisecond) }},
		{"ProgramDateTime zeroed", func(s *Segment) { s.ProgramDateTime = time.Time{} }},
		{"Length", func(s *Segment) { s.Length++ }},
		{"SHA256", func(s *Segment) { s.SHA256[31] ^= 0x80 }},
		{"Signature", func(s *Segment) { s.Signature[0] ^= 0x01 }},
		{"Signature truncated", func(s *Segment) { s.Signature = s.Signature[:63] }},
		{"Signature removed", func(s *Segment) { s.Signature = nil }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := Seal(mediaSegment(), testData, priv)
			if err := s.Verify(pub); err != nil {
				t.Fatalf("untouched record: %v", err)
			}
			s.Signature = bytes.Clone(s.Signature)
			tc.mutate(&s)
			if err := s.Verify(pub); !errors.Is(err, ErrBadSignature) {
				t.Fatalf("Verify after changing %s = %v, want ErrBadSignature", tc.name, err)
			}
		})
	}
}

func TestSigningBytesInjective(t *testing.T) {
	base := mediaSegment()
	for _, tc := range []struct {
		name string
		a, b func(*Segment)
	}{
		{"stream/broadcast boundary",
			func(s *Segment) { s.Stream, s.Broadcast = "ab", "c" },
			func(s *Segment) { s.Stream, s.Broadcast = "a", "bc" }},
		{"broadcast/rendition boundary",
			func(s *Segment) { s.Broadcast, s.Rendition = "x", "yz" },
			func(s *Segment) { s.Broadcast, s.Rendition = "xy", "z" }},
		{"empty stream vs empty rendition",
			func(s *Segment) { s.Stream, s.Broadcast, s.Rendition = "", "a", "b" },
			func(s *Segment) { s.Stream, s.Broadcast, s.Rendition = "a", "b", "" }},
		{"zero time vs epoch",
			func(s *Segment) { s.ProgramDateTime = time.Time{} },
			func(s *Segment) { s.ProgramDateTime = time.Unix(0, 0) }},
		{"start vs duration",
			func(s *Segment) { s.Start, s.Duration = time.Second, 2*time.Second },
			func(s *Segment) { s.Start, s.Duration = 2*time.Second, time.Second }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, b := base, base
			tc.a(&a)
			tc.b(&b)
			if bytes.Equal(a.SigningBytes(), b.SigningBytes()) {
				t.Fatalf("SigningBytes collide: %x", a.SigningBytes())
			}
		})
	}
}

// TestSigningBytesLayout pins the documented layout byte for byte, so a
// change that would break other verifiers fails here.
func TestSigningBytesLayout(t *testing.T) {
	s := Segment{
		Stream: "s", Broadcast: "bc", Rendition: "r",
		Kind: KindMedia, Sequence: 0x0102030405060708, Discontinuity: 0x0a0b0c0d,
		Start: 1000, Duration: 2000,
		ProgramDateTime: time.Unix(1, 5e6).UTC(),
		Length:          0x11,
	}
	s.SHA256[0], s.SHA256[31] = 0xaa, 0xbb
	want := []byte{0, 0, 0, 17}
	want = append(want, "canopy/segment/v1"...)
	want = append(want, 0, 0, 0, 1, 's', 0, 0, 0, 2, 'b', 'c', 0, 0, 0, 1, 'r')
	want = append(want, 2)
	want = append(want, 1, 2, 3, 4, 5, 6, 7, 8)
	want = append(want, 0x0a, 0x0b, 0x0c, 0x0d)
	want = append(want, 0, 0, 0, 0, 0, 0, 0x03, 0xe8)
	want = append(want, 0, 0, 0, 0, 0, 0, 0x07, 0xd0)
	want = append(want, 1, 0, 0, 0, 0, 0x3b, 0xe7, 0x15, 0x40) // 1.005e9 ns
	want = append(want, 0, 0, 0, 0, 0, 0, 0, 0x11)
	want = append(want, s.SHA256[:]...)
	if got := s.SigningBytes(); !bytes.Equal(got, want) {
		t.Fatalf("SigningBytes =\n%x\nwant\n%x", got, want)
	}
}

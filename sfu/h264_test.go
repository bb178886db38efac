package sfu

import "testing"

func TestH264HasKeyStart(t *testing.T) {
	tests := []struct {
		name    string
		payload []byte
		want    bool
	}{
		{"empty", nil, false},
		{"single IDR", []byte{0x65, 0x88, 0x84}, true},
		{"single SPS", testSPS, true},
		{"single PPS", testPPS, false},
		{"single non-IDR", nonIDR(1), false},
		{"single SEI", []byte{0x06, 0x05, 0x01}, false},
		{"STAP-A SPS PPS", stapA(testSPS, testPPS), true},
		{"STAP-A SEI IDR", stapA([]byte{0x06, 0x05}, []byte{0x65, 0x88}), true},
		{"STAP-A SEI non-IDR", stapA([]byte{0x06, 0x05}, nonIDR(2)), false},
		{"STAP-A truncated", []byte{0x78, 0x00, 0x09, 0x67}, false},
		{"STAP-A zero size", []byte{0x78, 0x00, 0x00, 0x67}, false},
		{"FU-A IDR start", fuA(true, false, 5, 1, 2), true},
		{"FU-A IDR middle", fuA(false, false, 5, 1, 2), false},
		{"FU-A IDR end", fuA(false, true, 5, 1, 2), false},
		{"FU-A non-IDR start", fuA(true, false, 1, 1, 2), false},
		{"FU-A header only", []byte{0x7c}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := h264HasKeyStart(tc.payload); got != tc.want {
				t.Errorf("h264HasKeyStart(% x) = %v, want %v", tc.payload, got, tc.want)
			}
		})
	}
}

func TestKeyframeDetectorFirstPacketOfAccessUnit(t *testing.T) {
	var k keyframeDetector
	steps := []struct {
		ts      uint32
		payload []byte
		want    bool
	}{
		{1000, nonIDR(1), false},
		{3000, []byte{0x09, 0x10}, false},       // AUD before the parameter sets
		{3000, stapA(testSPS, testPPS), true},   // key start
		{3000, fuA(true, false, 5, 1), false},   // same access unit: IDR after SPS
		{3000, fuA(false, true, 5, 2), false},   //
		{3000, fuA(true, false, 5, 3), false},   // second IDR slice
		{6000, nonIDR(2), false},                //
		{9000, fuA(true, false, 5, 4), true},    // IDR without in-band SPS
		{9000, fuA(true, true, 5, 5), false},    // its second slice
		{12000, []byte{0x65, 0x88, 0x84}, true}, // single-NAL IDR
		{12000, stapA(testSPS, testPPS), false}, // repeated parameter sets in the same AU
	}
	for i, s := range steps {
		if got := k.start(s.ts, s.payload); got != s.want {
			t.Errorf("step %d (ts %d): start = %v, want %v", i, s.ts, got, s.want)
		}
	}
	k.reset()
	if !k.start(12000, stapA(testSPS, testPPS)) {
		t.Error("after reset the same timestamp must start a new access unit")
	}
}

package testsrc

import (
	"bytes"
	"os/exec"
	"testing"
	"time"
)

// TestClockStampRoundTrip encodes stamped frames with x264 (as a
// publisher would) and reads the stamps back: they rise frame by frame and
// lie between the times ffmpeg started and ended.
func TestClockStampRoundTrip(t *testing.T) {
	start := time.Now().UnixMilli()
	cmd := exec.Command("ffmpeg", "-hide_banner", "-loglevel", "error", "-f", "lavfi",
		"-i", "testsrc2=size=320x180:rate=30,"+stampFilter(30), "-t", "1",
		"-c:v", "libx264", "-preset", "ultrafast", "-tune", "zerolatency", "-f", "h264", "pipe:1")
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("ffmpeg: %v: %s", err, errb.String())
	}
	end := time.Now().UnixMilli()
	stamps, err := ReadClockStamps("", out.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if len(stamps) < 25 {
		t.Fatalf("%d frames decoded", len(stamps))
	}
	for i, s := range stamps {
		if age := StampAge(s, end); age < 0 || age > end-start {
			t.Fatalf("frame %d stamp %d is %d ms before the end, outside the run (%d ms)", i, s, age, end-start)
		}
		if i > 0 && StampAge(stamps[i-1], int64(s)) > 100 {
			t.Fatalf("frame %d stamp %d does not follow %d", i, s, stamps[i-1])
		}
	}
	// Paced at real time: the stamps span about the second of media.
	if span := StampAge(stamps[0], int64(stamps[len(stamps)-1])); span < 800 || span > 1200 {
		t.Fatalf("stamps span %d ms for 1 s of media", span)
	}
}

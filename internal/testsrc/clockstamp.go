package testsrc

import (
	"bytes"
	"fmt"
	"os/exec"
	"strconv"
)

// StampBits is how many bits of the wall clock (Unix ms) a frame carries:
// the stamp is the time mod 2^StampBits (about 4.7 hours).
const StampBits = 24

// stampFilter stamps each frame with the wall-clock time it is made: the
// realtime filter releases each frame at its time (ffmpeg's -re alone lets
// a lavfi source run ahead in bursts), the timestamps are set to the
// real-time clock in ms (RTCTIME), geq paints bit k of (ms mod 2^24) as
// block k of the top eighth, and the timestamps are then made regular
// again.
func stampFilter(fps int) string {
	return "realtime,settb=1/1000,setpts='RTCTIME/1000'," +
		"geq=lum='if(lt(Y,H/8),255*mod(floor(mod(T*1000," + strconv.Itoa(1<<StampBits) + ")/pow(2,floor(X*" +
		strconv.Itoa(StampBits) + "/W))),2),lum(X,Y))':cb='cb(X,Y)':cr='cr(X,Y)'," +
		"setpts='N/(" + strconv.Itoa(fps) + "*TB)'"
}

// ReadClockStamps decodes H.264 (Annex B) with ffmpeg and returns each
// decoded frame's stamp, in decode order.
func ReadClockStamps(ffmpeg string, annexB []byte) ([]uint32, error) {
	if ffmpeg == "" {
		ffmpeg = "ffmpeg"
	}
	cmd := exec.Command(ffmpeg, "-hide_banner", "-loglevel", "error", "-f", "h264", "-i", "pipe:0",
		"-vf", "crop=iw:ih/8:0:0,scale="+strconv.Itoa(StampBits)+":1:flags=area",
		"-f", "rawvideo", "-pix_fmt", "gray", "pipe:1")
	cmd.Stdin = bytes.NewReader(annexB)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("decode stamps: %w: %s", err, errb.String())
	}
	raw := out.Bytes()
	stamps := make([]uint32, 0, len(raw)/StampBits)
	for i := 0; i+StampBits <= len(raw); i += StampBits {
		var v uint32
		for k := range StampBits {
			if raw[i+k] > 128 {
				v |= 1 << k
			}
		}
		stamps = append(stamps, v)
	}
	return stamps, nil
}

// StampAge returns how long after stamp the wall-clock ms nowMS is, mod
// 2^StampBits.
func StampAge(stamp uint32, nowMS int64) int64 {
	const mod = 1 << StampBits
	return ((nowMS % mod) - int64(stamp) + mod) % mod
}

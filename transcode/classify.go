package transcode

import "strings"

// Class is what to do with one line of ffmpeg's stderr.
type Class int

// Classes of stderr lines. Every line goes to the log file whatever its class.
const (
	Ignore  Class = iota // routine chatter: only in the log file
	Explain              // worth an operator's attention: logged at Info/Warn with an explanation
	Error                // a failure: logged at Error with an explanation
)

// String returns "ignore", "explain" or "error" (used as a metric label).
func (c Class) String() string {
	switch c {
	case Explain:
		return "explain"
	case Error:
		return "error"
	default:
		return "ignore"
	}
}

// stderrRule maps lines containing all of match to a class and explanation.
type stderrRule struct {
	match   []string
	class   Class
	explain string
}

// stderrRules are tried in order; the first rule whose substrings all occur
// wins. The table is read-only.
var stderrRules = []stderrRule{
	// Routine noise first, so that a level prefix does not promote it.
	{[]string{"Past duration", "too large"}, Ignore, ""},
	{[]string{"deprecated pixel format used"}, Ignore, ""},
	{[]string{"Last message repeated"}, Ignore, ""},
	{[]string{"Starting second pass"}, Ignore, ""},

	{[]string{"Non-monotonous DTS"}, Explain, "source timestamps jump; the broadcaster's encoder or network hiccuped"},
	{[]string{"Non-monotonic DTS"}, Explain, "source timestamps jump; the broadcaster's encoder or network hiccuped"},
	{[]string{"non monotonically increasing dts"}, Explain, "output timestamps went backwards after a source timestamp jump; players may stutter once"},
	{[]string{"Queue input is backward in time"}, Explain, "audio timestamps jumped back; audio may glitch briefly"},
	{[]string{"out of order"}, Explain, "source packets arrived out of order; the broadcaster's encoder muxes badly"},
	{[]string{"Timestamps are unset"}, Explain, "source packets without timestamps; ffmpeg guesses them"},
	{[]string{"thread_queue_size"}, Explain, "ffmpeg reads input faster than it can process it; transcoding may be falling behind"},
	{[]string{"error while decoding MB"}, Explain, "corrupt source video (packet loss at the broadcaster?); expect brief artefacts"},
	{[]string{"concealing", "errors in"}, Explain, "corrupt source video (packet loss at the broadcaster?); expect brief artefacts"},
	{[]string{"co located POCs unavailable"}, Explain, "source video references a missing frame; expect brief artefacts"},
	{[]string{"Error while decoding stream"}, Explain, "a source packet could not be decoded; it is skipped"},
	{[]string{"max_analyze_duration", "reached"}, Explain, "ffmpeg took long to find the source streams; is audio or video missing from the stream?"},
	{[]string{"Could not find codec parameters"}, Explain, "a source stream carried no usable codec data (missing sequence header?)"},
	{[]string{"More than 1000 frames duplicated"}, Explain, "the source frame rate is far below the declared one; frames are being duplicated"},
	{[]string{"frames duplicated"}, Explain, "the source frame rate is below the declared one; frames are being duplicated"},

	{[]string{"Invalid data found when processing input"}, Error, "the input is corrupt or not FLV"},
	{[]string{"Too many packets buffered for output stream"}, Error, "ffmpeg's muxing queue overflowed: one source stream stalled while the other kept coming"},
	{[]string{"Unknown encoder"}, Error, "this ffmpeg build lacks an encoder the ladder needs (libx264?)"},
	{[]string{"Encoder not found"}, Error, "this ffmpeg build lacks an encoder the ladder needs (libx264?)"},
	{[]string{"Error while opening encoder"}, Error, "ffmpeg could not open an encoder (parameters not valid for this source?)"},
	{[]string{"Error initializing output stream"}, Error, "ffmpeg could not set up an output (parameters not valid for this source?)"},
	{[]string{"Error initializing complex filters"}, Error, "ffmpeg rejected the scaling filter graph"},
	{[]string{"matches no streams"}, Error, "the source lacks a stream the ladder maps (no video?)"},
	{[]string{"does not contain any stream"}, Error, "ffmpeg found nothing to transcode in the source"},
	{[]string{"Unrecognized option"}, Error, "ffmpeg rejected an argument (unexpected ffmpeg version?)"},
	{[]string{"Option not found"}, Error, "ffmpeg rejected an argument (unexpected ffmpeg version?)"},
	{[]string{"Broken pipe"}, Error, "an output pipe was closed under ffmpeg (the transcoder stopped reading)"},
	{[]string{"Cannot allocate memory"}, Error, "ffmpeg ran out of memory"},
	{[]string{"Conversion failed!"}, Error, "ffmpeg gave up; see the error lines before this one"},
	{[]string{"Error writing trailer"}, Error, "ffmpeg could not finish an output (pipe closed?)"},

	// Anything else ffmpeg itself tags as an error (-loglevel level+...).
	{[]string{"[fatal]"}, Error, "ffmpeg reported a fatal error"},
	{[]string{"[error]"}, Error, "ffmpeg reported an error"},
}

// Classify sorts one stderr line into Ignore, Explain or Error and, for
// Explain and Error, returns a short human explanation. Unknown lines
// (including unknown warnings) are ignored; unknown lines that ffmpeg itself
// marks "[error]" or "[fatal]" are errors.
func Classify(line string) (Class, string) {
	for _, r := range stderrRules {
		ok := true
		for _, m := range r.match {
			if !strings.Contains(line, m) {
				ok = false
				break
			}
		}
		if ok {
			return r.class, r.explain
		}
	}
	return Ignore, ""
}

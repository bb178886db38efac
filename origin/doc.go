// Package origin is the root of a Canopy deployment: it accepts RTMP
// publishers, maps stream keys to stream IDs, runs one transcoder per live
// stream, seals every finished segment into a signed proto.Segment record,
// keeps a DVR window in memory, archives every segment to a SegmentStore and
// serves HLS, DASH and the JSON API over HTTP.
package origin

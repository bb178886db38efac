package manifest

import "encoding/xml"

// The subset of the MPD schema (ISO/IEC 23009-1) that DASHManifest writes.

type mpdXML struct {
	XMLName                    xml.Name    `xml:"urn:mpeg:dash:schema:mpd:2011 MPD"`
	Profiles                   string      `xml:"profiles,attr"`
	Type                       string      `xml:"type,attr"`
	AvailabilityStartTime      string      `xml:"availabilityStartTime,attr,omitempty"`
	PublishTime                string      `xml:"publishTime,attr,omitempty"`
	MinimumUpdatePeriod        string      `xml:"minimumUpdatePeriod,attr,omitempty"`
	TimeShiftBufferDepth       string      `xml:"timeShiftBufferDepth,attr,omitempty"`
	SuggestedPresentationDelay string      `xml:"suggestedPresentationDelay,attr,omitempty"`
	MediaPresentationDuration  string      `xml:"mediaPresentationDuration,attr,omitempty"`
	MinBufferTime              string      `xml:"minBufferTime,attr"`
	Periods                    []periodXML `xml:"Period"`
	UTCTiming                  *utcXML     `xml:"UTCTiming,omitempty"`
}

type utcXML struct {
	SchemeIDURI string `xml:"schemeIdUri,attr"`
	Value       string `xml:"value,attr"`
}

type periodXML struct {
	ID            string           `xml:"id,attr"`
	Start         string           `xml:"start,attr"`
	AdaptationSet adaptationSetXML `xml:"AdaptationSet"`
}

type adaptationSetXML struct {
	ContentType      string              `xml:"contentType,attr"`
	MimeType         string              `xml:"mimeType,attr"`
	SegmentAlignment bool                `xml:"segmentAlignment,attr"`
	StartWithSAP     int                 `xml:"startWithSAP,attr"`
	SegmentTemplate  *segmentTemplateXML `xml:"SegmentTemplate,omitempty"`
	Representations  []representationXML `xml:"Representation"`
}

type representationXML struct {
	ID              string              `xml:"id,attr"`
	Codecs          string              `xml:"codecs,attr,omitempty"`
	Width           int                 `xml:"width,attr,omitempty"`
	Height          int                 `xml:"height,attr,omitempty"`
	Bandwidth       int                 `xml:"bandwidth,attr"`
	FrameRate       string              `xml:"frameRate,attr,omitempty"`
	SegmentTemplate *segmentTemplateXML `xml:"SegmentTemplate,omitempty"`
}

type segmentTemplateXML struct {
	Timescale              int    `xml:"timescale,attr"`
	Initialization         string `xml:"initialization,attr"`
	Media                  string `xml:"media,attr"`
	StartNumber            uint64 `xml:"startNumber,attr"`
	PresentationTimeOffset int64  `xml:"presentationTimeOffset,attr"`
	Timeline               []sXML `xml:"SegmentTimeline>S"`
}

// sXML is one SegmentTimeline entry: r+1 segments of duration d from t
// (t left out when it follows on from the previous entry).
type sXML struct {
	T *int64 `xml:"t,attr,omitempty"`
	D int64  `xml:"d,attr"`
	R int    `xml:"r,attr,omitempty"`
}

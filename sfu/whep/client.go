package whep

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"

	"github.com/pion/webrtc/v4"
)

// Client is a WHEP viewer session from Go: tests, load generation, and
// relays that pull from a WHEP endpoint.
type Client struct {
	PC       *webrtc.PeerConnection
	Location string // the session URL, absolute
	http     *http.Client
}

// ClientParams configures Dial.
type ClientParams struct {
	Endpoint string      // e.g. http://host:8080/live/demo/whep
	API      *webrtc.API // nil: webrtc.NewAPI() with default codecs and interceptors
	HTTP     *http.Client
	// OnTrack is called for each remote track (video, audio).
	OnTrack func(*webrtc.TrackRemote, *webrtc.RTPReceiver)
}

// Dial offers to receive one video and one audio track, waits for its ICE
// candidates, and posts the offer.
func Dial(ctx context.Context, p ClientParams) (*Client, error) {
	api := p.API
	if api == nil {
		api = webrtc.NewAPI()
	}
	hc := p.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	pc, err := api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		return nil, err
	}
	c := &Client{PC: pc, http: hc}
	fail := func(err error) (*Client, error) {
		_ = pc.Close()
		return nil, err
	}
	for _, kind := range []webrtc.RTPCodecType{webrtc.RTPCodecTypeVideo, webrtc.RTPCodecTypeAudio} {
		if _, err := pc.AddTransceiverFromKind(kind, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionRecvonly}); err != nil {
			return fail(err)
		}
	}
	if p.OnTrack != nil {
		pc.OnTrack(p.OnTrack)
	}
	offer, err := pc.CreateOffer(nil)
	if err != nil {
		return fail(err)
	}
	gathered := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(offer); err != nil {
		return fail(err)
	}
	if err := waitGathered(ctx, gathered); err != nil {
		return fail(err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.Endpoint, bytes.NewBufferString(pc.LocalDescription().SDP))
	if err != nil {
		return fail(err)
	}
	req.Header.Set("Content-Type", ContentSDP)
	resp, err := hc.Do(req)
	if err != nil {
		return fail(fmt.Errorf("whep: post offer: %w", err))
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(io.LimitReader(resp.Body, DefaultMaxOfferSize))
	if err != nil {
		return fail(err)
	}
	if resp.StatusCode != http.StatusCreated {
		return fail(fmt.Errorf("whep: post offer: %s: %s", resp.Status, trimmed(answer)))
	}
	base, err := url.Parse(p.Endpoint)
	if err != nil {
		return fail(err)
	}
	loc, err := base.Parse(resp.Header.Get("Location"))
	if err != nil || resp.Header.Get("Location") == "" {
		return fail(fmt.Errorf("whep: answer without a usable Location"))
	}
	c.Location = loc.String()
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: string(answer)}); err != nil {
		return fail(fmt.Errorf("whep: answer: %w", err))
	}
	return c, nil
}

// Close deletes the session on the server and closes the connection.
func (c *Client) Close(ctx context.Context) error {
	var derr error
	req, err := http.NewRequestWithContext(ctx, http.MethodDelete, c.Location, nil)
	if err == nil {
		resp, err := c.http.Do(req)
		if err != nil {
			derr = err
		} else {
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				derr = fmt.Errorf("whep: delete: %s", resp.Status)
			}
		}
	}
	if err := c.PC.Close(); err != nil {
		return err
	}
	return derr
}

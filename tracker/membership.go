package tracker

import (
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/canopylive/canopy/proto/treepb"
)

// hello registers a session. A node that reconnects (same peer ID) takes
// over its old session's place in the trees; a new root replaces the old.
func (t *Tracker) hello(s *session, h *treepb.Hello) error {
	if h == nil {
		return fmt.Errorf("%w: first message is not a hello", ErrBadHello)
	}
	self, err := validPeer(h.GetSelf(), s.id)
	if err != nil {
		return err
	}
	streams, err := validStreams(h.GetStreams())
	if err != nil {
		return err
	}
	if h.GetRoot() && len(t.p.RootPeers) > 0 && !slices.Contains(t.p.RootPeers, s.id) {
		return fmt.Errorf("%w: %s may not be a root", ErrBadHello, s.id)
	}
	maxc := int(min(h.GetMaxChildren(), MaxChildrenCap))
	whepURL, err := validWHEPURL(h.GetWhepUrl())
	if err != nil {
		return err
	}
	whepCap := int(min(h.GetWhepCapacity(), maxWHEPCapacity))
	if whepCap == 0 {
		whepCap = DefaultWHEPCapacity
	}
	t.mu.Lock()
	defer func() {
		t.flushLocked()
		stops := t.takeStops()
		t.mu.Unlock()
		runStops(stops)
	}()
	if t.closed {
		return ErrClosed
	}
	now := t.p.Now()
	s.self, s.root, s.maxChildren, s.lastSeen, s.registered = self, h.GetRoot(), maxc, now, true
	s.whepURL, s.whepCapacity = whepURL, whepCap
	for _, name := range streams {
		s.streams[name] = &wanted{}
	}
	old := t.sessions[s.id]
	if old != nil && !old.root && !s.root {
		t.inheritLocked(old, s)
	} else if old != nil {
		t.removeLocked(old, ErrReplaced)
	}
	if s.root && t.rootID != "" && t.rootID != s.id {
		if prev := t.sessions[t.rootID]; prev != nil {
			s.log.Warn("new root replaces the previous one", "previous", t.rootID)
			t.removeLocked(prev, ErrReplaced)
		}
	}
	t.sessions[s.id] = s
	t.metrics.sessions.Set(float64(len(t.sessions)))
	if s.root {
		t.rootID, t.rootMax = s.id, maxc
		if maxc == 0 {
			t.rootMax = DefaultRootFanout
		}
		for name, tr := range t.trees {
			if err := tr.SetRoot(s.id, t.rootMax); err != nil {
				s.log.Warn("cannot root tree", "stream", name, "err", err)
			}
			t.dirty[name] = struct{}{}
		}
		s.log.Info("root joined", "streams", len(streams), "max_children", t.rootMax)
	} else {
		s.deferUntil = now
		if now.Before(t.recoveryEnd) {
			s.deferUntil = now.Add(t.p.HeartbeatTimeout)
		}
		t.pending[s] = struct{}{}
		s.log.Debug("node joined", "streams", len(streams), "max_children", maxc)
	}
	t.joinPendingLocked(now)
	return nil
}

// inheritLocked moves old's tree places to s and re-sends s its links.
func (t *Tracker) inheritLocked(old, s *session) {
	delete(t.pending, old)
	t.stops = append(t.stops, stopReq{old, ErrReplaced})
	for name, w := range old.streams {
		tr := t.trees[name]
		if !w.joined || tr == nil {
			continue
		}
		nw, ok := s.streams[name]
		if !ok {
			tr.Leave(s.id)
			t.dirty[name] = struct{}{}
			continue
		}
		nw.joined = true
		if l, ok := tr.Link(s.id); ok && l.Parent != "" {
			// Not a change for the tree, but new to this session.
			t.sendLinkLocked(s, tr, l)
		}
	}
}

// heartbeat records liveness, RTTs and the streams' reported parents.
func (t *Tracker) heartbeat(s *session, hb *treepb.Heartbeat) error {
	if len(hb.GetRtts()) > 4*maxRTTs || len(hb.GetStreams()) > 2*MaxStreamsPerNode {
		return fmt.Errorf("%w: heartbeat with %d rtts, %d streams", ErrBadMessage, len(hb.GetRtts()), len(hb.GetStreams()))
	}
	rtt := make(map[string]uint32, min(len(hb.GetRtts()), maxRTTs))
	for _, r := range hb.GetRtts() {
		if len(rtt) == maxRTTs {
			break
		}
		if id := r.GetPeer(); id != "" && len(id) <= maxNameLen && id != s.id {
			rtt[id] = r.GetMicros()
		}
	}
	for _, st := range hb.GetStreams() {
		if err := validName(st.GetStream()); err != nil {
			return err
		}
	}
	t.mu.Lock()
	defer func() {
		t.flushLocked()
		stops := t.takeStops()
		t.mu.Unlock()
		runStops(stops)
	}()
	now := t.p.Now()
	s.lastSeen, s.heard = now, true
	s.whepSessions, s.whepHanded = int(min(hb.GetWhepSessions(), maxWHEPCapacity)), 0
	for _, st := range hb.GetStreams() {
		name := st.GetStream()
		w := s.streams[name]
		if w == nil {
			if len(s.streams) >= MaxStreamsPerNode {
				continue
			}
			w = &wanted{}
			s.streams[name] = w
			if !s.root {
				t.pending[s] = struct{}{}
			}
		}
		w.reported = st.GetParent()
	}
	for name, w := range s.streams {
		if tr := t.trees[name]; w.joined && tr != nil {
			tr.SetRTT(s.id, rtt)
		}
	}
	if len(t.pending) > 0 {
		t.joinPendingLocked(now)
	}
	return nil
}

// report bans a peer in a stream when the reporter got segments from it:
// it must be the reporter's parent or backup there.
func (t *Tracker) report(s *session, r *treepb.Report) {
	t.mu.Lock()
	defer func() {
		t.flushLocked()
		stops := t.takeStops()
		t.mu.Unlock()
		runStops(stops)
	}()
	s.lastSeen = t.p.Now()
	tr := t.trees[r.GetStream()]
	w := s.streams[r.GetStream()]
	if tr == nil || w == nil || !w.joined {
		return
	}
	l, _ := tr.Link(s.id)
	if r.GetPeer() == "" || (r.GetPeer() != l.Parent && r.GetPeer() != l.Backup) {
		s.log.Debug("report about a peer that is not our parent ignored", "stream", r.GetStream(), "reported", r.GetPeer())
		return
	}
	if tr.Ban(r.GetPeer()) {
		t.metrics.reports.Inc()
		t.dirty[r.GetStream()] = struct{}{}
		s.log.Warn("peer reported for bad segments: no longer a parent", "stream", r.GetStream(), "reported", r.GetPeer(), "reason", r.GetReason())
	}
}

// fail ends a session for err.
func (t *Tracker) fail(s *session, err error) {
	t.mu.Lock()
	t.removeLocked(s, err)
	t.flushLocked()
	stops := t.takeStops()
	t.mu.Unlock()
	runStops(stops)
}

// removeLocked takes s out of the trees (its children are re-parented) and
// schedules it to be stopped.
func (t *Tracker) removeLocked(s *session, err error) {
	t.stops = append(t.stops, stopReq{s, err})
	delete(t.pending, s)
	if !s.registered {
		t.metrics.drops.WithLabelValues(reasonLabel(err)).Inc()
		return
	}
	if t.sessions[s.id] != s {
		return
	}
	delete(t.sessions, s.id)
	t.metrics.sessions.Set(float64(len(t.sessions)))
	t.metrics.drops.WithLabelValues(reasonLabel(err)).Inc()
	if s.root && t.rootID == s.id {
		t.rootID = ""
		for name, tr := range t.trees {
			tr.Leave(s.id)
			t.dirty[name] = struct{}{}
		}
	}
	for name, w := range s.streams {
		if tr := t.trees[name]; w.joined && tr != nil {
			tr.Leave(s.id)
			t.dirty[name] = struct{}{}
		}
	}
}

// joinPendingLocked places sessions whose streams are not joined yet. A
// node waits for its first heartbeat (bounded by deferUntil), and during
// the recovery window for the parent it reports, so the tree is rebuilt
// with the links it had.
func (t *Tracker) joinPendingLocked(now time.Time) {
	for progress := true; progress; {
		progress = false
		list := make([]*session, 0, len(t.pending))
		for s := range t.pending {
			list = append(list, s)
		}
		sort.Slice(list, func(i, j int) bool { return list[i].id < list[j].id })
		for _, s := range list {
			done := true
			for name, w := range s.streams {
				if w.joined {
					continue
				}
				if !s.heard && now.Before(s.deferUntil) {
					done = false
					continue
				}
				tr := t.treeLocked(name)
				if w.reported != "" && !tr.Attached(w.reported) && now.Before(t.recoveryEnd) {
					done = false
					continue
				}
				if err := tr.Join(s.id, s.maxChildren, w.reported); err != nil {
					s.log.Warn("join", "stream", name, "err", err)
				}
				w.joined, progress = true, true
				t.dirty[name] = struct{}{}
			}
			if done {
				delete(t.pending, s)
			}
		}
	}
}

// flushLocked sends the changed assignments of dirty trees. A session
// whose queue is full is dropped, which may change more links.
func (t *Tracker) flushLocked() {
	for len(t.dirty) > 0 {
		names := make([]string, 0, len(t.dirty))
		for n := range t.dirty {
			names = append(names, n)
		}
		clear(t.dirty)
		sort.Strings(names)
		for _, name := range names {
			tr := t.trees[name]
			if tr == nil {
				continue
			}
			for _, l := range tr.Changes() {
				if s := t.sessions[l.Node]; s != nil {
					t.sendLinkLocked(s, tr, l)
				}
			}
			if tr.Len() == 0 || (tr.Len() == 1 && tr.Root() != "") {
				delete(t.trees, name)
				t.metrics.streams.Set(float64(len(t.trees)))
			}
		}
	}
}

func (t *Tracker) sendLinkLocked(s *session, tr *Tree, l Link) {
	a := &treepb.Assignment{Stream: tr.Stream(), Parent: t.peerLocked(l.Parent), Depth: uint32(max(l.Depth, 0))}
	if l.Backup != "" {
		a.Backup = t.peerLocked(l.Backup)
	}
	for _, c := range tr.Candidates(l.Node, MaxCandidates) {
		a.Candidates = append(a.Candidates, t.peerLocked(c))
	}
	if s.send(&treepb.TrackerMessage{Msg: &treepb.TrackerMessage_Assignment{Assignment: a}}) {
		t.metrics.assignments.Inc()
		return
	}
	t.removeLocked(s, ErrSlowReader)
}

// peerLocked returns the Peer record (ID and addresses) of a node.
func (t *Tracker) peerLocked(id string) *treepb.Peer {
	if s := t.sessions[id]; s != nil && s.self != nil {
		return s.self
	}
	return &treepb.Peer{Id: id}
}

package sysplex

import (
	"context"
	"net/netip"
	"sort"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/client/v3/concurrency"
)

// Holder is what a member does with a dynamic VIPA: Take adds the address
// to the member's link and announces it (a gratuitous ARP), Give takes it
// away. Both are called from the VIPA's own goroutine, never with a
// member's lock held.
type Holder interface {
	Take(addr netip.Addr) error
	Give(addr netip.Addr) error
}

// ErrVIPADefined says the member has the VIPA defined already.
type ErrVIPADefined struct{ Addr netip.Addr }

func (e *ErrVIPADefined) Error() string { return "VIPA " + e.Addr.String() + " is defined already" }

// ErrNoVIPA says the member has no such VIPA defined.
type ErrNoVIPA struct{ Addr netip.Addr }

func (e *ErrNoVIPA) Error() string { return "no VIPA " + e.Addr.String() }

// vipa is one dynamic VIPA a member is a candidate for: its goroutine
// campaigns in the VIPA's election on the member's lease and, while it
// leads, holds the address.
type vipa struct {
	addr   netip.Addr
	link   string // the link that holds it here, as the caller names it
	holder Holder
	cancel context.CancelFunc // ends the current campaign (nil: none runs)
	done   chan struct{}      // closed when the current campaign's goroutine ended
	owned  bool
	since  time.Time
	why    string // why the candidacy was ended (endCampaign)
}

// VIPAInfo is one VIPA as QUERY SYSPLEX shows it.
type VIPAInfo struct {
	Addr  netip.Addr
	Link  string
	Owner string // the member the election names; "" when none
	Mine  bool   // this member holds it now
	Since time.Time
}

func (m *Member) vipaKey(a netip.Addr) string { return m.prefix + "vipas/" + a.String() }

// DefineVIPA makes the member a candidate for the dynamic VIPA a: the
// member that asked first owns it while its lease lives; when it fails,
// the next candidate takes it (within the lease's TTL) and announces it.
func (m *Member) DefineVIPA(a netip.Addr, link string, h Holder) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.vipas[a.String()]; ok {
		return &ErrVIPADefined{a}
	}
	v := &vipa{addr: a, link: link, holder: h}
	m.vipas[a.String()] = v
	if m.session != nil {
		m.campaignLocked(v, m.session)
	}
	return nil
}

// DeleteVIPA ends the member's candidacy: the address is given up if the
// member holds it, and the next candidate takes it.
func (m *Member) DeleteVIPA(a netip.Addr) error {
	m.mu.Lock()
	v, ok := m.vipas[a.String()]
	if ok {
		delete(m.vipas, a.String())
	}
	m.mu.Unlock()
	if !ok {
		return &ErrNoVIPA{a}
	}
	m.endCampaign(v, "DELETE VIPA")
	return nil
}

// campaignLocked starts v's campaign on session s.
func (m *Member) campaignLocked(v *vipa, s *concurrency.Session) {
	ctx, cancel := context.WithCancel(m.ctx)
	v.cancel, v.done = cancel, make(chan struct{})
	m.wg.Add(1)
	go m.campaign(ctx, v, s, v.done)
}

// takeRetry is how long a member whose link could not take a VIPA waits
// before it stands again (the other candidates have their turn meanwhile).
const takeRetry = 5 * time.Second

// campaign runs v's campaigns on session s: it waits to lead, holds the
// address while it leads and the session lives, then gives it up and
// resigns. A link that cannot take the address (down, no device yet)
// makes it resign and stand again after takeRetry.
func (m *Member) campaign(ctx context.Context, v *vipa, s *concurrency.Session, done chan struct{}) {
	defer m.wg.Done()
	defer close(done)
	for {
		e := concurrency.NewElection(s, m.vipaKey(v.addr))
		if err := e.Campaign(ctx, m.cfg.Member); err != nil {
			return // ended, or the session with it
		}
		select {
		case <-ctx.Done():
			m.resign(e)
			return
		case <-s.Done():
			return
		default:
		}
		if err := v.holder.Take(v.addr); err != nil {
			m.notify(Event{Kind: EventVIPALost, VIPA: v.addr.String(), Link: v.link, Reason: err.Error()})
			m.resign(e)
			select {
			case <-ctx.Done():
				return
			case <-s.Done():
				return
			case <-time.After(takeRetry):
				continue
			}
		}
		m.hold(ctx, v, s)
		m.resign(e)
		return
	}
}

// hold keeps v's address while the campaign leads: until the candidacy
// ends or the session with it.
func (m *Member) hold(ctx context.Context, v *vipa, s *concurrency.Session) {
	m.reg.SetVIPA(v.addr, true)
	m.mu.Lock()
	v.owned, v.since = true, m.cfg.Clock()
	m.mu.Unlock()
	m.notify(Event{Kind: EventVIPAOwn, VIPA: v.addr.String(), Link: v.link})
	reason := "the store cannot be reached"
	select {
	case <-ctx.Done():
		m.mu.Lock()
		reason = v.why
		m.mu.Unlock()
	case <-s.Done():
	}
	m.reg.SetVIPA(v.addr, false)
	v.holder.Give(v.addr)
	m.mu.Lock()
	v.owned = false
	m.mu.Unlock()
	m.notify(Event{Kind: EventVIPALost, VIPA: v.addr.String(), Link: v.link, Reason: reason})
}

func (m *Member) resign(e *concurrency.Election) {
	ctx, cancel := context.WithTimeout(context.Background(), claimTimeout)
	defer cancel()
	e.Resign(ctx)
}

// endCampaign stops v's campaign for the reason given and waits for its
// goroutine.
func (m *Member) endCampaign(v *vipa, why string) {
	m.mu.Lock()
	v.why = why
	cancel, done := v.cancel, v.done
	v.cancel, v.done = nil, nil
	m.mu.Unlock()
	if cancel != nil {
		cancel()
		<-done
	}
}

// dropVIPAs ends every campaign (the lease ended, or the member leaves):
// the addresses it holds are given up at once.
func (m *Member) dropVIPAs(why string) {
	m.mu.Lock()
	vs := make([]*vipa, 0, len(m.vipas))
	for _, v := range m.vipas {
		vs = append(vs, v)
	}
	m.mu.Unlock()
	for _, v := range vs {
		m.endCampaign(v, why)
	}
}

// restartVIPAs campaigns again for every VIPA on the new lease.
func (m *Member) restartVIPAs() {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.session == nil || m.ctx.Err() != nil {
		return
	}
	for _, v := range m.vipas {
		if v.cancel == nil {
			m.campaignLocked(v, m.session)
		}
	}
}

// stopVIPAs forgets the VIPAs (Leave, after the goroutines ended).
func (m *Member) stopVIPAs() {
	m.mu.Lock()
	clear(m.vipas)
	m.mu.Unlock()
}

// VIPAs lists the member's VIPAs with the owner the store names.
func (m *Member) VIPAs() []VIPAInfo {
	m.mu.Lock()
	out := make([]VIPAInfo, 0, len(m.vipas))
	for _, v := range m.vipas {
		out = append(out, VIPAInfo{Addr: v.addr, Link: v.link, Mine: v.owned, Since: v.since})
	}
	coupled := m.session != nil
	m.mu.Unlock()
	sort.Slice(out, func(i, j int) bool { return out[i].Addr.Less(out[j].Addr) })
	for i := range out {
		if !coupled {
			break
		}
		ctx, cancel := context.WithTimeout(m.ctx, claimTimeout)
		resp, err := m.cli.Get(ctx, m.vipaKey(out[i].Addr)+"/", clientv3.WithFirstCreate()...)
		cancel()
		if err == nil && len(resp.Kvs) > 0 {
			out[i].Owner = string(resp.Kvs[0].Value)
		}
	}
	return out
}

// Owner gives the member that owns a now, as the store says ("" for none).
func (m *Member) Owner(ctx context.Context, a netip.Addr) (string, error) {
	resp, err := m.cli.Get(ctx, m.vipaKey(a)+"/", clientv3.WithFirstCreate()...)
	if err != nil {
		return "", err
	}
	if len(resp.Kvs) == 0 {
		return "", nil
	}
	return string(resp.Kvs[0].Value), nil
}

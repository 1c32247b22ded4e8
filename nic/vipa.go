package nic

import (
	"net/netip"

	"gvisor.dev/gvisor/pkg/tcpip/stack"
)

// ErrVIPAOnLink says a dynamic VIPA cannot be added to the link: the
// link has the address already (its own, or the VIPA), or netstack
// refused it (Reason).
type ErrVIPAOnLink struct {
	Link   string
	Addr   netip.Addr
	Reason string
}

func (e *ErrVIPAOnLink) Error() string {
	if e.Reason != "" {
		return "link " + e.Link + " cannot take " + e.Addr.String() + ": " + e.Reason
	}
	return "link " + e.Link + " has " + e.Addr.String() + " already"
}

// AddVIPA gives link a dynamic VIPA of the sysplex, beside the link's own
// address (never the source the stack chooses by itself: a connection is
// from the VIPA when its user binds to it, or answers a client that came
// to it), and announces it with a gratuitous ARP on an Ethernet link, so
// that the neighbours send to this stack from now on. The stack reaches
// the address itself too, as it reaches its own. An IPv6 VIPA is announced
// by an unsolicited Neighbor Advertisement.
func (s *Stack) AddVIPA(link string, a netip.Addr) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	l, err := s.definedLinkLocked(link)
	if err != nil {
		return err
	}
	if l.ep == nil {
		return &ErrNotMapped{link, l.cfg.devices()}
	}
	if l.vipas[a] || (l.cfg.Addr.IsValid() && l.cfg.Addr.Addr() == a) {
		return &ErrVIPAOnLink{link, a, ""}
	}
	pa := protocolAddress(netip.PrefixFrom(a, a.BitLen()))
	if terr := s.ns.AddProtocolAddress(l.nic, pa, stack.AddressProperties{PEB: stack.NeverPrimaryEndpoint}); terr != nil {
		return &ErrVIPAOnLink{link, a, terr.String()}
	}
	if l.vipas == nil {
		l.vipas = map[netip.Addr]bool{}
	}
	l.vipas[a] = true
	s.rebuildRoutesLocked()
	if l.dev != nil {
		if a.Is4() {
			gratuitousARP(l.dev, l.mac, a)
		} else {
			unsolicitedNA(l.dev, l.mac, a)
		}
	}
	return nil
}

// RemoveVIPA takes a dynamic VIPA off link (the member gave it up).
func (s *Stack) RemoveVIPA(link string, a netip.Addr) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	l, ok := s.links[link]
	if !ok || !l.vipas[a] {
		return nil // gone with its link, or never added
	}
	delete(l.vipas, a)
	if l.ep != nil {
		s.ns.RemoveAddress(l.nic, tcpipAddr(a))
	}
	s.rebuildRoutesLocked()
	return nil
}

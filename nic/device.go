package nic

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strings"
	"sync"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	"gvisor.dev/gvisor/pkg/tcpip/link/fdbased"
	"gvisor.dev/gvisor/pkg/tcpip/stack"
)

// The raw-socket recipe measured in shared/reference/netstack.md: one
// AF_PACKET socket with PACKET_VNET_HDR set before fdbased.New (host GSO),
// 4 MiB forced socket buffers, RX checksum offload on (the peer's TSO frames
// carry partial checksums), TX checksum offload off (nothing downstream
// would fill the checksum in), GSO up to 64 KiB.
const (
	rawSocketBuffer = 4 << 20
	rawGSOMaxSize   = 65536
	virtioNetHdr    = 10 // bytes of struct virtio_net_hdr before each frame
)

// device is an opened host device: the fdbased endpoint and its descriptor.
type device struct {
	ep      stack.LinkEndpoint
	fd      int
	vnetHdr bool // frames written to fd need a virtio_net_hdr first
	ifindex int
}

func (d *device) close() {
	if d.ep != nil {
		d.ep.Attach(nil)
	}
	if d.fd >= 0 {
		unix.Close(d.fd)
		d.fd = -1
	}
}

// ErrNoDevice says the host interface named by DEV= does not exist.
type ErrNoDevice struct{ Dev string }

func (e *ErrNoDevice) Error() string { return "no host interface " + e.Dev }

// ErrDevice says a host device could not be opened or configured.
type ErrDevice struct {
	Dev    string
	Reason string
}

func (e *ErrDevice) Error() string { return e.Dev + ": " + e.Reason }

func deviceErr(dev, what string, err error) error {
	var errno unix.Errno
	if errors.As(err, &errno) {
		return &ErrDevice{Dev: dev, Reason: what + ": " + errno.Error()}
	}
	return &ErrDevice{Dev: dev, Reason: what + ": " + err.Error()}
}

// openRaw opens an AF_PACKET socket on a host interface and the fdbased
// endpoint over it.
func openRaw(dev string, mtu uint32, mac tcpip.LinkAddress, closed func(tcpip.Error)) (*device, error) {
	ifi, err := net.InterfaceByName(dev)
	if err != nil {
		return nil, &ErrNoDevice{Dev: dev}
	}
	if mtu == 0 {
		mtu = uint32(ifi.MTU)
	}
	if int(mtu) > ifi.MTU {
		return nil, &ErrDevice{Dev: dev, Reason: fmt.Sprintf("MTU %d is above the interface's %d", mtu, ifi.MTU)}
	}
	fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, deviceErr(dev, "raw socket", err)
	}
	d := &device{fd: fd, vnetHdr: true, ifindex: ifi.Index}
	fail := func(what string, err error) (*device, error) {
		d.close()
		return nil, deviceErr(dev, what, err)
	}
	if err := unix.SetsockoptInt(fd, unix.SOL_PACKET, unix.PACKET_VNET_HDR, 1); err != nil {
		return fail("PACKET_VNET_HDR", err)
	}
	for _, opt := range []int{unix.SO_RCVBUFFORCE, unix.SO_SNDBUFFORCE} {
		if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, opt, rawSocketBuffer); err != nil {
			return fail("socket buffers", err)
		}
	}
	sa := &unix.SockaddrLinklayer{Protocol: htons(unix.ETH_P_ALL), Ifindex: ifi.Index}
	if err := unix.Bind(fd, sa); err != nil {
		return fail("bind", err)
	}
	ep, err := fdbased.New(&fdbased.Options{
		FDs:                []int{fd},
		MTU:                mtu,
		EthernetHeader:     true,
		Address:            mac,
		ClosedFunc:         closed,
		GSOMaxSize:         rawGSOMaxSize,
		RXChecksumOffload:  true,
		TXChecksumOffload:  false,
		PacketDispatchMode: fdbased.RecvMMsg,
		// One processor: packets are delivered by the dispatcher's own
		// goroutine. With more, fdbased starts processor goroutines that
		// outlive the endpoint's dispatcher in this gVisor version
		// (goleak found two behind every start of a link).
		ProcessorsPerChannel: 1,
	})
	if err != nil {
		return fail("endpoint", err)
	}
	d.ep = ep
	return d, nil
}

// openTAP creates (or attaches to) the TAP device dev, brings it up with the
// MTU, and optionally gives the host's side an address.
func openTAP(dev string, mtu uint32, mac tcpip.LinkAddress, host netip.Prefix, closed func(tcpip.Error)) (*device, error) {
	if len(dev) >= unix.IFNAMSIZ {
		return nil, &ErrDevice{Dev: dev, Reason: "name longer than 15 characters"}
	}
	if mtu == 0 {
		mtu = 1500
	}
	fd, err := unix.Open("/dev/net/tun", unix.O_RDWR|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, deviceErr(dev, "/dev/net/tun", err)
	}
	d := &device{fd: fd}
	fail := func(what string, err error) (*device, error) {
		d.close()
		return nil, deviceErr(dev, what, err)
	}
	ifr, err := unix.NewIfreq(dev)
	if err != nil {
		return fail("name", err)
	}
	ifr.SetUint16(unix.IFF_TAP | unix.IFF_NO_PI)
	if err := unix.IoctlIfreq(fd, unix.TUNSETIFF, ifr); err != nil {
		return fail("TUNSETIFF", err)
	}
	if err := configureHostSide(dev, mtu, host); err != nil {
		return fail("configure", err)
	}
	ep, err := fdbased.New(&fdbased.Options{
		FDs:               []int{fd},
		MTU:               mtu,
		EthernetHeader:    true,
		Address:           mac,
		ClosedFunc:        closed,
		RXChecksumOffload: false, // a TAP hands over checksummed MTU frames
		TXChecksumOffload: false,
		// One processor, as for RAW links (see openRaw).
		ProcessorsPerChannel: 1,
	})
	if err != nil {
		return fail("endpoint", err)
	}
	d.ep = ep
	if ifi, err := net.InterfaceByName(dev); err == nil {
		d.ifindex = ifi.Index
	}
	return d, nil
}

// configureHostSide sets the MTU of a host interface, an IPv4 address if
// one is given, and brings it up.
func configureHostSide(dev string, mtu uint32, host netip.Prefix) error {
	s, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(s)
	ifr, err := unix.NewIfreq(dev)
	if err != nil {
		return err
	}
	ifr.SetUint32(mtu)
	if err := unix.IoctlIfreq(s, unix.SIOCSIFMTU, ifr); err != nil {
		return fmt.Errorf("MTU: %w", err)
	}
	if host.IsValid() {
		ifr, _ = unix.NewIfreq(dev)
		if err := ifr.SetInet4Addr(host.Addr().AsSlice()); err != nil {
			return err
		}
		if err := unix.IoctlIfreq(s, unix.SIOCSIFADDR, ifr); err != nil {
			return fmt.Errorf("host address: %w", err)
		}
		ifr, _ = unix.NewIfreq(dev)
		mask := net.CIDRMask(host.Bits(), 32)
		if err := ifr.SetInet4Addr(mask); err != nil {
			return err
		}
		if err := unix.IoctlIfreq(s, unix.SIOCSIFNETMASK, ifr); err != nil {
			return fmt.Errorf("host mask: %w", err)
		}
	}
	ifr, _ = unix.NewIfreq(dev)
	if err := unix.IoctlIfreq(s, unix.SIOCGIFFLAGS, ifr); err != nil {
		return fmt.Errorf("flags: %w", err)
	}
	ifr.SetUint16(ifr.Uint16() | unix.IFF_UP)
	if err := unix.IoctlIfreq(s, unix.SIOCSIFFLAGS, ifr); err != nil {
		return fmt.Errorf("up: %w", err)
	}
	return nil
}

// interfaceUp reports whether a host interface exists, is up and has
// carrier.
func interfaceUp(dev string) bool {
	ifi, err := net.InterfaceByName(dev)
	if err != nil || ifi.Flags&net.FlagUp == 0 {
		return false
	}
	b, err := os.ReadFile("/sys/class/net/" + dev + "/carrier")
	if err != nil {
		return true // no carrier file: trust the flags
	}
	return strings.TrimSpace(string(b)) == "1"
}

// linkMAC is the stack's MAC on a link: the one given, or a locally
// administered unicast address derived from the machine, the link id and
// its device, so that it stays the same across restarts (the peers'
// neighbour caches stay right) and differs between the stacks on one LAN
// (a sysplex's members name their links alike: OSA1 on eth1 everywhere).
func linkMAC(host, id, dev string, given net.HardwareAddr) tcpip.LinkAddress {
	if len(given) == 6 {
		return tcpip.LinkAddress(given)
	}
	sum := sha256.Sum256([]byte("ipnstack link " + id + " on " + dev + " of " + host))
	mac := make([]byte, 6)
	copy(mac[1:], sum[:5])
	mac[0] = 0x02 // locally administered, unicast
	return tcpip.LinkAddress(mac)
}

// gratuitousARP announces addr at mac on the device, so that neighbours
// update their caches when the link starts.
func gratuitousARP(d *device, mac tcpip.LinkAddress, addr netip.Addr) error {
	frame := make([]byte, 0, virtioNetHdr+header.EthernetMinimumSize+header.ARPSize)
	if d.vnetHdr {
		frame = append(frame, make([]byte, virtioNetHdr)...)
	}
	eth := make([]byte, header.EthernetMinimumSize)
	header.Ethernet(eth).Encode(&header.EthernetFields{
		SrcAddr: mac, DstAddr: header.EthernetBroadcastAddress, Type: header.ARPProtocolNumber,
	})
	frame = append(frame, eth...)
	arp := header.ARP(make([]byte, header.ARPSize))
	arp.SetIPv4OverEthernet()
	arp.SetOp(header.ARPRequest)
	ip := addr.As4()
	copy(arp.HardwareAddressSender(), mac)
	copy(arp.ProtocolAddressSender(), ip[:])
	copy(arp.ProtocolAddressTarget(), ip[:])
	frame = append(frame, arp...)
	_, err := unix.Write(d.fd, frame)
	return err
}

// unsolicitedNA announces the IPv6 address addr at mac on the device (RFC
// 4861 7.2.6): a Neighbor Advertisement to all nodes with the Override
// flag and the target's link-layer address, so that neighbours that know
// the address replace its link-layer address at once.
func unsolicitedNA(d *device, mac tcpip.LinkAddress, addr netip.Addr) error {
	target := tcpip.AddrFrom16(addr.As16())
	opts := header.NDPOptionsSerializer{header.NDPTargetLinkLayerAddressOption(mac)}
	icmpLen := header.ICMPv6NeighborAdvertMinimumSize + opts.Length()
	icmp := header.ICMPv6(make([]byte, icmpLen))
	icmp.SetType(header.ICMPv6NeighborAdvert)
	na := header.NDPNeighborAdvert(icmp.MessageBody())
	na.SetOverrideFlag(true)
	na.SetTargetAddress(target)
	na.Options().Serialize(opts)
	icmp.SetChecksum(header.ICMPv6Checksum(header.ICMPv6ChecksumParams{Header: icmp, Src: target, Dst: header.IPv6AllNodesMulticastAddress}))
	ip := header.IPv6(make([]byte, header.IPv6MinimumSize))
	ip.Encode(&header.IPv6Fields{PayloadLength: uint16(icmpLen), TransportProtocol: header.ICMPv6ProtocolNumber,
		HopLimit: header.NDPHopLimit, SrcAddr: target, DstAddr: header.IPv6AllNodesMulticastAddress})
	frame := make([]byte, 0, virtioNetHdr+header.EthernetMinimumSize+len(ip)+icmpLen)
	if d.vnetHdr {
		frame = append(frame, make([]byte, virtioNetHdr)...)
	}
	eth := make([]byte, header.EthernetMinimumSize)
	header.Ethernet(eth).Encode(&header.EthernetFields{
		SrcAddr: mac, DstAddr: header.EthernetAddressFromMulticastIPv6Address(header.IPv6AllNodesMulticastAddress),
		Type: header.IPv6ProtocolNumber,
	})
	frame = append(append(append(frame, eth...), ip...), icmp...)
	_, err := unix.Write(d.fd, frame)
	return err
}

// machineIdentity names this machine for linkMAC: systemd's machine id,
// else the host name.
var machineIdentity = sync.OnceValue(func() string {
	if b, err := os.ReadFile("/etc/machine-id"); err == nil && len(bytes.TrimSpace(b)) > 0 {
		return string(bytes.TrimSpace(b))
	}
	h, _ := os.Hostname()
	return h
})

func htons(v uint16) uint16 {
	var b [2]byte
	binary.BigEndian.PutUint16(b[:], v)
	return binary.NativeEndian.Uint16(b[:])
}

// pathErr gives the reason of a file error without repeating the path.
func pathErr(err error) string {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

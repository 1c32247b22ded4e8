package ops

import (
	"errors"
	"fmt"
	"ipnstack/ftpd"
	"ipnstack/msgcat"
	"ipnstack/nic"
	"ipnstack/portrange"
	"ipnstack/tlscert"
	"ipnstack/users"
	"strconv"
	"strings"
	"syscall"
)

// The errors of the rooms, each mapped to its catalogued messages in one
// place: a handler says mapErr(err), never err.Error() in a message. What
// no mapper knows is IPN998S, an internal error.

// linkErr gives the message of a typed error of package nic.
func linkErr(err error) msgcat.Msg {
	var (
		exists  *nic.ErrLinkExists
		noLink  *nic.ErrNoLink
		noDev   *nic.ErrNoDevice
		inUse   *nic.ErrDeviceInUse
		clash   *nic.ErrAddrConflict
		badAddr *nic.ErrBadAddress
		busy    *nic.ErrLinkBusy
		builtin *nic.ErrBuiltin
		state   *nic.ErrLinkState
		noAddr  *nic.ErrNoAddress
		dev     *nic.ErrDevice
		rExists *nic.ErrRouteExists
		noRoute *nic.ErrNoRoute
		gw      *nic.ErrGatewayNotOnLink
		gwFam   *nic.ErrGatewayFamily
		badNet  *nic.ErrBadNetwork
		uses    *nic.ErrRouteUses
		trOn    *nic.ErrTraceOn
		trOff   *nic.ErrTraceOff
		trFile  *nic.ErrTraceFile
		unmap   *nic.ErrNotMapped
		devDef  *nic.ErrDeviceDefined
		noEntry *nic.ErrNoDeviceEntry
	)
	switch {
	case errors.As(err, &exists):
		return msgcat.IPN172E(exists.ID)
	case errors.As(err, &noLink):
		return msgcat.IPN171E(noLink.ID)
	case errors.As(err, &noDev):
		return msgcat.IPN173E(noDev.Dev)
	case errors.As(err, &inUse):
		return msgcat.IPN174E(inUse.Dev, inUse.Link)
	case errors.As(err, &clash):
		return msgcat.IPN175E(clash.Addr.String(), clash.Link)
	case errors.As(err, &badAddr):
		return msgcat.IPN185E(badAddr.Addr.String(), badAddr.Reason)
	case errors.As(err, &busy):
		return msgcat.IPN178E(busy.ID, busy.Conns)
	case errors.As(err, &builtin):
		return msgcat.IPN182E(builtin.ID)
	case errors.As(err, &state):
		return msgcat.IPN183E(state.ID, string(state.State))
	case errors.As(err, &noAddr):
		return msgcat.IPN184E(noAddr.ID)
	case errors.As(err, &dev):
		return msgcat.IPN179E(dev.Dev, dev.Reason)
	case errors.As(err, &rExists):
		return msgcat.IPN105E(rExists.ID)
	case errors.As(err, &noRoute):
		return msgcat.IPN106E(noRoute.ID)
	case errors.As(err, &gw):
		return msgcat.IPN107E(gw.Gateway.String(), gw.Link, gw.Subnet.String())
	case errors.As(err, &gwFam):
		return msgcat.IPN195E(gwFam.Gateway.String(), gwFam.Net.String())
	case errors.As(err, &badNet):
		return msgcat.IPN108E(badNet.Net.String(), badNet.Net.Masked().String())
	case errors.As(err, &uses):
		return msgcat.IPN109E(uses.Link, uses.Route)
	case errors.As(err, &trOn):
		return msgcat.IPN119E(trOn.Link, trOn.File)
	case errors.As(err, &trOff):
		return msgcat.IPN115E(trOff.Link)
	case errors.As(err, &trFile):
		return msgcat.IPN118E(trFile.File, trFile.Reason)
	case errors.As(err, &unmap):
		return msgcat.IPN252E(unmap.ID, strings.Join(unmap.CUUs, ","))
	case errors.As(err, &devDef):
		return msgcat.IPN246E(devDef.Device.CUU, devDef.Device.Interface)
	case errors.As(err, &noEntry):
		return msgcat.IPN247E(noEntry.CUU)
	}
	return msgcat.IPN998S("the link layer", err.Error())
}

// rangeMsg gives the message of one violated PORTRANGE rule.
func rangeMsg(e *portrange.RangeError) msgcat.Msg {
	switch e.Rule {
	case portrange.RuleLowGap:
		return msgcat.IPN120E(e.Low, portrange.MinGap, e.High)
	case portrange.RuleHighGap:
		return msgcat.IPN121E(e.High, portrange.MinGap, e.Low)
	case portrange.RuleLowRange:
		return msgcat.IPN314E("LOW", msgcat.FormatNum(int64(e.Low)), portrange.LowMin, portrange.LowMax)
	case portrange.RuleHighRange:
		return msgcat.IPN314E("HIGH", msgcat.FormatNum(int64(e.High)), portrange.HighMin, portrange.HighMax)
	}
	return msgcat.IPN313E(e.Error(), "PORTRANGE", "a valid range")
}

// setAsideMsg gives the message of the registry's refusal to set [lo, hi]
// aside for owner.
func setAsideMsg(err error, proto portrange.Proto, lo, hi uint16, owner string) msgcat.Msg {
	var re *portrange.ReservedError
	var be *portrange.BoundError
	switch {
	case errors.As(err, &re):
		return msgcat.IPN612E(proto.String(), lo, hi, re.Low, re.High, re.Owner)
	case errors.As(err, &be):
		return msgcat.IPN613E(proto.String(), be.Port, be.Owner, lo, hi, owner)
	}
	return msgcat.IPN313E(strconv.Itoa(int(hi)), "HIGH", fmt.Sprintf("a port at or above LOW=%d", lo))
}

// registryErr gives the message of an error of the users or files registry.
func registryErr(err error, field, value string) msgcat.Msg {
	var fe *users.FieldError
	switch {
	case errors.As(err, &fe):
		return msgcat.IPN459E(fe.Field, fe.Value, fe.Reason)
	case errors.Is(err, users.ErrUserExists):
		return msgcat.IPN457E(value)
	case errors.Is(err, users.ErrNoSuchUser):
		return msgcat.IPN458E(value)
	case errors.Is(err, users.ErrReservedUser):
		return msgcat.IPN459E(field, value, err.Error())
	case errors.Is(err, ftpd.ErrFileExists):
		return msgcat.IPN469E(value)
	case errors.Is(err, ftpd.ErrNoSuchFile):
		return msgcat.IPN470E(value)
	}
	return msgcat.IPN459E(field, value, err.Error())
}

// certError words a certificate's error: the file, and the reason alone.
func certError(err error, file string) msgcat.Msg {
	var fe *tlscert.FileError
	if errors.As(err, &fe) {
		return msgcat.IPN425E(fe.File, fe.Err.Error())
	}
	return msgcat.IPN425E(file, err.Error())
}

// listenErr is why a listener or a connection could not open: the
// system's own words for it (address already in use), without the layers
// of wrapping; the stack's connection table's reasons are its own words.
func listenErr(err error) string {
	var se syscall.Errno
	if errors.As(err, &se) {
		return se.Error()
	}
	return err.Error()
}

// ftpdErr gives the message of an FTP daemon's error: its state, a setting
// the table should have refused (internal), or the reason its control
// port could not be listened on.
func ftpdErr(id string, err error) msgcat.Msg {
	var ce *ftpd.ConfigError
	switch {
	case errors.Is(err, ftpd.ErrNotPaused):
		return msgcat.IPN480E(id)
	case errors.Is(err, ftpd.ErrImplicitFixed):
		return msgcat.IPN473E("TLS", "FTPD", id)
	case errors.As(err, &ce):
		return msgcat.IPN998S("FTPD "+id, ce.Error())
	}
	return msgcat.IPN444E(id, listenErr(err))
}

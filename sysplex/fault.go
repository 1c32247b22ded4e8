package sysplex

import (
	"context"
	"errors"
	"syscall"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Fault is the kind of failure of the store an ErrStore is: what the
// operator can act on, named by the console's messages rather than by the
// store client's own words.
type Fault int

// The faults of the store.
const (
	FaultOther       Fault = iota // another error of the store's client
	FaultNoAnswer                 // no answer in time
	FaultUnreachable              // no member of the store could be reached
	FaultNoLeader                 // the store has no leader (its quorum is lost)
	FaultDenied                   // the store refused the member (authentication, permission)
)

// Fault classifies the store's error.
func (e *ErrStore) Fault() Fault {
	err := e.Err
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return FaultNoAnswer
	case errors.Is(rpctypes.Error(err), rpctypes.ErrNoLeader):
		return FaultNoLeader
	case errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH):
		return FaultUnreachable
	}
	if s, ok := status.FromError(err); ok {
		switch s.Code() {
		case codes.DeadlineExceeded:
			return FaultNoAnswer
		case codes.Unavailable:
			return FaultUnreachable
		case codes.PermissionDenied, codes.Unauthenticated:
			return FaultDenied
		}
	}
	return FaultOther
}
